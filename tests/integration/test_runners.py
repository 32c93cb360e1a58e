"""Kedro's runners: SequentialRunner and ThreadRunner train (tests/pipelines/training);
ParallelRunner is refused before anything runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.scratch_project import kedro, make_small_project

pytestmark = pytest.mark.integration


def test_parallel_runner_stops_the_run_in_one_sentence_that_names_the_runners_to_use(
    tmp_path: Path,
):
    project, _ = make_small_project(tmp_path / "project")

    result = kedro(project, "run", "--runner", "ParallelRunner", timeout=120)

    assert result.returncode == 1
    assert "Traceback" not in result.stdout + result.stderr
    last_line = result.stderr.strip().splitlines()[-1]
    assert last_line.startswith("Error: The run stopped: ParallelRunner cannot run this project")
    assert "SequentialRunner" in last_line and "--runner ThreadRunner" in last_line
    assert not any((project / "data" / "03_primary").iterdir())  # nothing ran
