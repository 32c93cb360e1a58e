"""Shared fixtures: the project's parameters, small variants of them, and tiny tables.

Tests read the parameters from ``conf/base`` only, so a developer's ``conf/local``
never changes what the suite checks.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Callable
from typing import Any

os.environ.setdefault("KEDRO_DISABLE_TELEMETRY", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import pandas as pd
import pytest
from xdist.scheduler import LoadScopeScheduling

from multimodal_keras.validation import with_row_ids
from tests import configuration
from tests.configuration import load_conf, small_table

# Folders whose conftest.py trains a project once per session for several modules: under
# `pytest -n`, each folder's modules run in one worker, so that project is trained once.
SHARED_SESSION_FOLDERS = ("tests/integration/", "tests/bad_inputs/", "tests/pipelines/inference/")


@pytest.fixture(scope="session")
def shared_project_parameters() -> dict[str, Any]:
    """The project's parameters, loaded once; read them only, never change them."""
    return load_conf("parameters")


@pytest.fixture
def project_parameters(shared_project_parameters: dict[str, Any]) -> dict[str, Any]:
    """A fresh copy of the project's parameters from ``conf/base``; tests may change it."""
    return copy.deepcopy(shared_project_parameters)


@pytest.fixture(scope="session")
def shared_small_parameters() -> dict[str, Any]:
    """``small_parameters`` made once; read them only, never change them."""
    return configuration.small_parameters({"training": {"verbose": 0}})


@pytest.fixture
def small_parameters(shared_small_parameters: dict[str, Any]) -> dict[str, Any]:
    """The project's parameters with tiny images, towers and training, for fast runs."""
    return copy.deepcopy(shared_small_parameters)


@pytest.fixture(scope="session")
def make_tiny_table(shared_small_parameters: dict[str, Any]) -> Callable[..., pd.DataFrame]:
    """Factory of small synthetic raw tables with the project's columns and demo spec.

    ``make_tiny_table(rows=120, seed=0, **demo_overrides)``; images are small squares.
    """

    def factory(rows: int = 120, seed: int = 0, **demo_overrides: Any) -> pd.DataFrame:
        return small_table(shared_small_parameters, rows, seed, **demo_overrides)

    return factory


@pytest.fixture
def tiny_primary_table(make_tiny_table: Callable[..., pd.DataFrame]) -> pd.DataFrame:
    """A 60-row table with a ``row_id`` first, as ``validate_table`` leaves it."""
    return with_row_ids(make_tiny_table(rows=60, seed=1), None)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A slow test is an end-to-end run, so an integration test too: ``pytest -m "not
    integration"`` then leaves it out although its ``-m`` replaces ``-m 'not slow'``."""
    for item in items:
        if item.get_closest_marker("slow") and not item.get_closest_marker("integration"):
            item.add_marker(pytest.mark.integration)


class SharedSessionScheduling(LoadScopeScheduling):
    """``--dist loadscope`` (each module in one worker), with the modules of each
    ``SHARED_SESSION_FOLDERS`` folder as one unit. ``_split_scope`` is private to xdist; its
    own ``LoadFileScheduling`` regroups tests by overriding it in the same way."""

    def _split_scope(self, nodeid: str) -> str:
        folder = next((f for f in SHARED_SESSION_FOLDERS if nodeid.startswith(f)), None)
        return folder or super()._split_scope(nodeid)


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> LoadScopeScheduling | None:
    """``SharedSessionScheduling`` when the run asks for ``--dist loadscope`` (pyproject.toml)."""
    if config.getoption("dist") != "loadscope":
        return None
    return SharedSessionScheduling(config, log)
