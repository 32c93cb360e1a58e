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

from multimodal_keras.modalities import MODALITIES
from multimodal_keras.modalities.base import configured_columns
from multimodal_keras.synthetic import make_table
from multimodal_keras.validation import with_row_ids
from tests.configuration import load_conf

# Sizes small enough that building, training and predicting take a fraction of a second.
SMALL_IMAGE = 12
SMALL_TOWERS: dict[str, dict[str, Any]] = {
    "categorical": {"units": [4], "dropout": 0.0, "embedding_dim": 2},
    "numerical": {"units": [4], "dropout": 0.0},
    "text": {"embedding_dim": 4, "conv_filters": 4, "units": [4], "dropout": 0.0},
    "image": {"conv_filters": [2], "units": [4], "dropout": 0.0},
}


@pytest.fixture(scope="session")
def shared_project_parameters() -> dict[str, Any]:
    """The project's parameters, loaded once; read them only, never change them."""
    return load_conf("parameters")


@pytest.fixture
def project_parameters(shared_project_parameters: dict[str, Any]) -> dict[str, Any]:
    """A fresh copy of the project's parameters from ``conf/base``; tests may change it."""
    return copy.deepcopy(shared_project_parameters)


@pytest.fixture(scope="session")
def shared_small_parameters(shared_project_parameters: dict[str, Any]) -> dict[str, Any]:
    """``small_parameters`` made once; read them only, never change them."""
    params = copy.deepcopy(shared_project_parameters)
    params["image"].update(height=SMALL_IMAGE, width=SMALL_IMAGE, channels=3, chunk_size=64)
    params["text"].update(max_tokens=200, sequence_length=12)
    for name, tower in SMALL_TOWERS.items():
        params["model"]["towers"][name].update(copy.deepcopy(tower))
    params["model"]["fusion"] = {"units": [4], "dropout": 0.0}
    params["training"].update(epochs=2, batch_size=32, verbose=0)
    return params


@pytest.fixture
def small_parameters(shared_small_parameters: dict[str, Any]) -> dict[str, Any]:
    """The project's parameters with tiny images, towers and training, for fast runs."""
    return copy.deepcopy(shared_small_parameters)


@pytest.fixture(scope="session")
def make_tiny_table(shared_project_parameters: dict[str, Any]) -> Callable[..., pd.DataFrame]:
    """Factory of small synthetic raw tables with the project's columns and demo spec.

    ``make_tiny_table(rows=120, seed=0, **demo_overrides)``; images are small squares.
    """

    params = shared_project_parameters

    def factory(rows: int = 120, seed: int = 0, **demo_overrides: Any) -> pd.DataFrame:
        spec = copy.deepcopy(params["demo"])
        spec["image"]["size"] = SMALL_IMAGE
        spec.update(demo_overrides)
        columns = {name: configured_columns(params.get(name)) for name in MODALITIES}
        return make_table(columns, params["table"]["target"], rows, spec, seed)

    return factory


@pytest.fixture
def tiny_primary_table(make_tiny_table: Callable[..., pd.DataFrame]) -> pd.DataFrame:
    """A 60-row table with a ``row_id`` first, as ``validate_table`` leaves it."""
    return with_row_ids(make_tiny_table(rows=60, seed=1), None)
