"""The small project (``tests/configuration.py``) in a scratch copy, run once with ``kedro run``.

The copy has this checkout's ``conf``, ``src`` and ``pyproject.toml``, a small synthetic
table, and a ``conf/local`` that shrinks images, towers and epochs, so that the whole
default pipeline runs in seconds without touching this checkout's data.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.scratch_project import Completed, kedro, make_small_project


@dataclass
class ProjectRun:
    """A finished ``kedro run`` of the small project: where it ran and what it printed."""

    project: Path
    parameters: dict[str, Any]
    result: Completed

    @property
    def reporting(self) -> Path:
        return self.project / "data" / "08_reporting"


@pytest.fixture(scope="session")
def tiny_project(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """A scratch copy of the small project, not run yet."""
    return make_small_project(tmp_path_factory.mktemp("tiny_project"))


@pytest.fixture(scope="session")
def tiny_run(tiny_project: tuple[Path, dict[str, Any]]) -> ProjectRun:
    """The small project after one default ``kedro run``."""
    project, parameters = tiny_project
    result = kedro(project, "run")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return ProjectRun(project, parameters, result)
