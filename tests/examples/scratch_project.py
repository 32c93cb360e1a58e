"""Helpers for running the project as a user does, in a scratch copy of it.

``make_project_copy`` lays out a scratch project (configuration, scripts, source, an
empty data tree) so that runs never overwrite this checkout's data; ``run_kedro`` runs
``kedro run`` there in a subprocess. The fixtures are in this folder's conftest.py.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DATA_LAYERS = [
    "01_raw",
    "02_intermediate",
    "03_primary",
    "04_feature",
    "05_model_input",
    "06_models",
    "07_model_output",
    "08_reporting",
]


@dataclass
class Completed:
    """A finished ``kedro run``: its exit code, output and wall time."""

    returncode: int
    stdout: str
    stderr: str
    seconds: float


def subprocess_environment() -> dict[str, str]:
    """The test's environment, with this checkout's src importable and telemetry off."""
    environment = dict(os.environ)
    environment.update(
        KEDRO_DISABLE_TELEMETRY="1",
        TF_CPP_MIN_LOG_LEVEL="3",
        PYTHONPATH=os.pathsep.join(
            [str(PROJECT_ROOT / "src"), *filter(None, [environment.get("PYTHONPATH")])]
        ),
    )
    return environment


def make_project_copy(destination: Path, raw_files: Iterable[str] = ()) -> Path:
    """A scratch project in ``destination`` with the given files of ``data/01_raw``."""
    destination.mkdir(parents=True, exist_ok=True)
    for name in ("pyproject.toml", ".telemetry"):
        if (PROJECT_ROOT / name).exists():
            shutil.copy2(PROJECT_ROOT / name, destination / name)
    shutil.copytree(PROJECT_ROOT / "conf", destination / "conf", ignore=_ignore_local)
    (destination / "conf" / "local").mkdir(exist_ok=True)
    shutil.copytree(PROJECT_ROOT / "scripts", destination / "scripts")
    # Kedro insists that src lies inside the project: a copy, not a link.
    shutil.copytree(
        PROJECT_ROOT / "src", destination / "src", ignore=shutil.ignore_patterns("__pycache__")
    )
    for layer in DATA_LAYERS:
        (destination / "data" / layer).mkdir(parents=True, exist_ok=True)
    for name in raw_files:
        shutil.copy2(PROJECT_ROOT / "data" / "01_raw" / name, destination / "data" / "01_raw")
    return destination


def _ignore_local(folder: str, names: list[str]) -> list[str]:
    return names if Path(folder).name == "local" else []


def run_in(project: Path, *arguments: str, timeout: float = 600) -> Completed:
    """Run ``python <arguments>`` in ``project``, as a user would from its root."""
    started = time.perf_counter()
    process = subprocess.run(
        [sys.executable, *arguments],
        cwd=project,
        env=subprocess_environment(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return Completed(
        process.returncode, process.stdout, process.stderr, time.perf_counter() - started
    )


def run_kedro(project: Path, environment: str, timeout: float = 600) -> Completed:
    """``kedro run --env <environment>`` in ``project``."""
    return run_in(project, "-m", "kedro", "run", "--env", environment, timeout=timeout)


def invoke(project: Path, *arguments: str) -> Completed:
    """A project command, ``kedro ARGUMENTS``, run in this process from ``project``'s folder.

    The same click commands ``kedro`` dispatches to, without a TensorFlow start-up per run;
    output is what the terminal would show, with a traceback appended when an exception
    escaped the command (what a user would see as one).
    """
    # Imported here, not at collection: Kedro's project module configures logging.
    from click.testing import CliRunner
    from kedro.framework.startup import bootstrap_project

    from multimodal_keras.cli import cli

    previous = Path.cwd()
    started = time.perf_counter()
    os.chdir(project)
    try:
        bootstrap_project(project)
        result = CliRunner().invoke(cli, list(arguments), catch_exceptions=True)
    finally:
        os.chdir(previous)
    output = result.output
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        output += f"\nTraceback (most recent call last):\n{result.exception!r}"
    return Completed(result.exit_code, output, "", time.perf_counter() - started)
