"""The benchmark command runs on a tiny table and reports every stage and target.

Benchmarks are not tests: this only checks that ``python benchmarks/run.py`` works. It runs
every group end to end (about a minute), so it is among the slow tests: `pytest -m slow`.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.scratch_project import PROJECT_ROOT, run_in

pytestmark = pytest.mark.integration


def ran(node: str, log: str) -> bool:
    """Whether a run's log holds the line the project logs when ``node`` finishes."""
    return re.search(rf"^\S+ INFO +{node}: [0-9.]+ s, peak memory", log, re.MULTILINE) is not None


@pytest.mark.slow
def test_benchmark_command_runs_on_a_tiny_table(tmp_path: Path):
    output = tmp_path / "results.json"
    finished = run_in(
        PROJECT_ROOT,
        str(PROJECT_ROOT / "benchmarks" / "run.py"),
        *("--rows", "120", "--categorical", "1", "--numerical", "1"),
        *("--image-size", "16", "--repeats", "1", "--pipeline-repeats", "1"),
        *("--skip", "steps", "memory", "scale"),
        *("--workdir", str(tmp_path / "work"), "--output", str(output)),
        timeout=300,
    )

    assert finished.returncode == 0, finished.stdout[-3000:] + finished.stderr[-3000:]
    results = json.loads(output.read_text())
    stages = {(row["stage"], row["approach"]) for row in results["stages"]["rows"]}
    assert {("validation", "project"), ("image transform", "project"), ("split", "seed")} <= stages
    assert set(results["images"]["runs"]) == {
        "project",
        "bare_tf_data",
        "bare_tf_data_seed_ops",
        "bare_decode_only",
        "seed",
    }
    assert (
        results["pipeline"]["plain"][0]["metrics"]["parameters"]
        == results["stages"]["model_parameters"]
    )
    assert {row["target"] for row in results["targets"]} >= {
        "image node throughput / seed's",
        "kedro run --to-nodes evaluate_model / plain script, wall time",
    }
    # The timed kedro run does the plain script's work; the default run does all the rest too.
    logs = tmp_path / "work" / "logs"
    timed, default = (logs / "kedro_0.log").read_text(), (logs / "kedro_default.log").read_text()
    assert ran("evaluate_model", timed)
    assert not ran("fit_baseline", timed)
    assert not ran("measure_modality_importance", timed)
    assert ran("build_run_report", default)
    assert len(results["pipeline"]["kedro_default"]) == 1
    assert "| validation |" in output.with_suffix(".md").read_text()
