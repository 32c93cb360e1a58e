"""Running the project as a user does, in a scratch copy of it.

``make_project_copy`` lays out a scratch project (configuration, scripts, source, an
empty data tree) so that runs never overwrite this checkout's data; ``make_small_project``
is such a copy holding the small project of ``tests/configuration.py`` (its parameters in
``conf/local``, a synthetic raw table). ``subprocess_environment`` is the environment of
every process a test starts; ``run_in``, ``kedro`` and ``run_kedro`` start them, and
``invoke`` runs a project command in this process instead.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from tests.configuration import load_conf, small_changes, small_parameters, small_table

PROJECT_ROOT = Path(__file__).resolve().parents[1]
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
# A console this wide keeps each of Rich's log records and messages on one line.
LOG_WIDTH = 1000
SMALL_ROWS = 240


@dataclass
class Completed:
    """A finished process: its exit code, output and wall time."""

    returncode: int
    stdout: str
    stderr: str
    seconds: float


def subprocess_environment(with_project: bool = True, **variables: str) -> dict[str, str]:
    """The environment of a process a test starts: this one's, with telemetry off, a wide
    console, TensorFlow's logging as the project sets it (not as this shell may), this
    checkout's ``src`` importable first (or, without ``with_project``, no ``PYTHONPATH``),
    and ``variables`` over all of it."""
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in ("TF_CPP_MIN_LOG_LEVEL", "PYTHONPATH")
    }
    environment.update(KEDRO_DISABLE_TELEMETRY="1", COLUMNS=str(LOG_WIDTH))
    if with_project:
        inherited = os.environ.get("PYTHONPATH")
        environment["PYTHONPATH"] = os.pathsep.join(
            [str(PROJECT_ROOT / "src"), *filter(None, [inherited])]
        )
    return environment | variables


def make_project_copy(destination: Path, raw_files: Iterable[str] = ()) -> Path:
    """A scratch project in ``destination`` with the given files of ``data/01_raw``.

    It has this checkout's ``pyproject.toml``, ``src``, ``scripts`` and every environment
    of ``conf`` but ``local``, which is empty: a developer's ``conf/local`` never changes
    what a test checks.
    """
    destination.mkdir(parents=True, exist_ok=True)
    for name in ("pyproject.toml", ".telemetry"):
        if (PROJECT_ROOT / name).exists():
            shutil.copy2(PROJECT_ROOT / name, destination / name)
    shutil.copytree(PROJECT_ROOT / "conf", destination / "conf", ignore=_ignore_local)
    (destination / "conf" / "local").mkdir(exist_ok=True)
    shutil.copytree(PROJECT_ROOT / "scripts", destination / "scripts")
    # Kedro insists that src lies inside the project: a copy, not a link.
    shutil.copytree(
        PROJECT_ROOT / "src",
        destination / "src",
        ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"),
    )
    for layer in DATA_LAYERS:
        (destination / "data" / layer).mkdir(parents=True, exist_ok=True)
    for name in raw_files:
        shutil.copy2(PROJECT_ROOT / "data" / "01_raw" / name, destination / "data" / "01_raw")
    return destination


def _ignore_local(folder: str, names: list[str]) -> list[str]:
    return names if Path(folder).name == "local" else []


def make_small_project(
    destination: Path, changes: Mapping[str, Any] | None = None, rows: int = SMALL_ROWS
) -> tuple[Path, dict[str, Any]]:
    """A scratch copy holding the small project: ``SMALL`` and a test's own ``changes`` in
    ``conf/local/parameters.yml``, a synthetic raw table of ``rows`` rows; its parameters."""
    project = make_project_copy(destination)
    local = small_changes(changes)
    (project / "conf" / "local" / "parameters.yml").write_text(yaml.safe_dump(local))
    parameters = small_parameters(changes, project / "conf")
    table = small_table(parameters, rows, seed=3)
    table.to_parquet(project / load_conf("catalog", project / "conf")["raw_table"]["filepath"])
    return project, parameters


def run_in(project: Path, *arguments: str, timeout: float = 600) -> Completed:
    """Run ``python <arguments>`` in ``project``, as a user would from its root."""
    started = time.perf_counter()
    process = subprocess.run(
        [sys.executable, *arguments],
        cwd=project,
        env=subprocess_environment(),
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=timeout,
        check=False,
    )
    return Completed(
        process.returncode, process.stdout, process.stderr, time.perf_counter() - started
    )


def kedro(project: Path, *arguments: str, timeout: float = 600) -> Completed:
    """``kedro ARGUMENTS`` in ``project`` with this interpreter; output is not a terminal."""
    return run_in(project, "-m", "kedro", *arguments, timeout=timeout)


def run_kedro(project: Path, environment: str, timeout: float = 600) -> Completed:
    """``kedro run --env <environment>`` in ``project``."""
    return kedro(project, "run", "--env", environment, timeout=timeout)


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
