"""A copy of the project with a tiny demo table, run once with ``kedro run`` for these tests.

The copy has this checkout's ``conf/base``, ``src`` and ``pyproject.toml``, a small
synthetic table, and a ``conf/local`` that shrinks images, towers and epochs, so that
the whole default pipeline runs in seconds without touching this checkout's data.
"""

from __future__ import annotations

import copy
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from multimodal_keras.modalities import MODALITIES
from multimodal_keras.modalities.base import configured_columns
from multimodal_keras.synthetic import make_table
from tests.configuration import load_conf

PROJECT_ROOT = Path(__file__).resolve().parents[2]
LOG_WIDTH = 1000
TINY_ROWS = 240
TINY_IMAGE = 8
TINY_OVERRIDES: dict[str, Any] = {
    "image": {"height": TINY_IMAGE, "width": TINY_IMAGE, "chunk_size": 64},
    "text": {"max_tokens": 200, "sequence_length": 12},
    "model": {
        "towers": {
            "categorical": {"units": [4], "dropout": 0.0},
            "numerical": {"units": [4], "dropout": 0.0},
            "text": {"embedding_dim": 4, "units": [4], "dropout": 0.0},
            "image": {"conv_filters": [2], "units": [4], "dropout": 0.0},
        },
        "fusion": {"units": [4], "dropout": 0.0},
    },
    "training": {"epochs": 3, "batch_size": 32},
    "modality_importance": {"repeats": 2},
    "tuning": {"max_trials": 2},
}


def deep_update(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """``base`` with ``changes`` merged in, nested mappings key by key."""
    merged = copy.deepcopy(base)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_update(merged[key], value)
        else:
            merged[key] = value
    return merged


def kedro_environment() -> dict[str, str]:
    """The environment for a ``kedro`` subprocess: no telemetry, TensorFlow's logging as
    the project sets it (not as this shell may), a wide console for Rich's messages."""
    inherited = {key: value for key, value in os.environ.items() if key != "TF_CPP_MIN_LOG_LEVEL"}
    return inherited | {"KEDRO_DISABLE_TELEMETRY": "1", "COLUMNS": str(LOG_WIDTH)}


def kedro(project: Path, *arguments: str, timeout: int = 300) -> subprocess.CompletedProcess:
    """Run a ``kedro`` command in ``project`` with this interpreter; output is not a terminal."""
    return subprocess.run(
        [sys.executable, "-m", "kedro", *arguments],
        cwd=project,
        env=kedro_environment(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def copy_project(destination: Path) -> Path:
    """A runnable copy of this checkout's project, with empty data folders."""
    shutil.copytree(PROJECT_ROOT / "conf" / "base", destination / "conf" / "base")
    (destination / "conf" / "local").mkdir(parents=True)
    shutil.copy2(PROJECT_ROOT / "conf" / "logging.yml", destination / "conf" / "logging.yml")
    shutil.copytree(
        PROJECT_ROOT / "src",
        destination / "src",
        ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"),
    )
    shutil.copy2(PROJECT_ROOT / "pyproject.toml", destination / "pyproject.toml")
    for folder in (PROJECT_ROOT / "data").iterdir():
        if folder.is_dir():
            (destination / "data" / folder.name).mkdir(parents=True)
    return destination


def latest(folder: Path) -> Path:
    """The newest saved version of a versioned dataset (the file inside its newest folder)."""
    versions = sorted(path for path in folder.iterdir() if path.is_dir())
    return versions[-1] / folder.name


@dataclass
class ProjectRun:
    """A finished ``kedro run`` of the tiny project: where it ran and what it printed."""

    project: Path
    parameters: dict[str, Any]
    result: subprocess.CompletedProcess

    @property
    def reporting(self) -> Path:
        return self.project / "data" / "08_reporting"


def make_tiny_project(
    destination: Path, overrides: dict[str, Any] | None = None, rows: int = TINY_ROWS
) -> tuple[Path, dict[str, Any]]:
    """A project copy with a small demo table and a ``conf/local`` that keeps runs short.

    ``overrides`` are merged over ``TINY_OVERRIDES`` into ``conf/local``.
    """
    project = copy_project(destination)
    changes = deep_update(TINY_OVERRIDES, overrides or {})
    parameters = deep_update(load_conf("parameters", project / "conf"), changes)
    local = {key: parameters[key] for key in changes}
    (project / "conf" / "local" / "parameters.yml").write_text(yaml.safe_dump(local))
    demo = deep_update(parameters["demo"], {"image": {"size": TINY_IMAGE}})
    columns = {name: configured_columns(parameters.get(name)) for name in MODALITIES}
    table = make_table(columns, parameters["table"]["target"], rows, demo, seed=3)
    catalog = yaml.safe_load((project / "conf" / "base" / "catalog.yml").read_text())
    table.to_parquet(project / catalog["raw_table"]["filepath"])
    return project, parameters


@pytest.fixture(scope="session")
def tiny_project(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """A project copy with a tiny demo table and a ``conf/local`` that keeps the run short."""
    return make_tiny_project(tmp_path_factory.mktemp("tiny_project"))


@pytest.fixture(scope="session")
def tiny_run(tiny_project: tuple[Path, dict[str, Any]]) -> ProjectRun:
    """The tiny project after one default ``kedro run``."""
    project, parameters = tiny_project
    result = kedro(project, "run")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return ProjectRun(project, parameters, result)
