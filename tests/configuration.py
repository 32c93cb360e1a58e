"""The project's configuration in tests: read as ``kedro run`` resolves and merges it, and
shrunk into a small project that builds, trains and predicts in seconds.

``small_parameters`` is that small project's parameters, in memory; ``small_table`` is a
synthetic raw table with its columns; ``tests/scratch_project.make_small_project`` puts
both on disk in a scratch copy of the project.
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from multimodal_keras.modalities import MODALITIES
from multimodal_keras.modalities.base import configured_columns
from multimodal_keras.settings import CONFIG_LOADER_ARGS, CONFIG_LOADER_CLASS
from multimodal_keras.synthetic import make_table

PROJECT_CONF = Path(__file__).resolve().parents[1] / "conf"

# Sizes small enough that building, training and predicting take a fraction of a second.
SMALL_IMAGE = 12
SMALL: dict[str, Any] = {
    "image": {"height": SMALL_IMAGE, "width": SMALL_IMAGE, "channels": 3, "chunk_size": 64},
    "text": {"max_tokens": 200, "sequence_length": 12},
    "model": {
        "towers": {
            "categorical": {"units": [4], "dropout": 0.0, "embedding_dim": 2},
            "numerical": {"units": [4], "dropout": 0.0},
            "text": {"embedding_dim": 4, "conv_filters": 4, "units": [4], "dropout": 0.0},
            "image": {"conv_filters": [2], "units": [4], "dropout": 0.0},
        },
        "fusion": {"units": [4], "dropout": 0.0},
        "ensemble": {"members": 2},
    },
    "training": {"epochs": 2, "batch_size": 32},
    "modality_importance": {"repeats": 2},
    "tuning": {"max_trials": 2},
    # The synthetic table's images, drawn at the size the model reads.
    "demo": {"image": {"size": SMALL_IMAGE}},
}


def load_conf(key: str, conf: Path = PROJECT_CONF, environment: str = "base") -> dict[str, Any]:
    """``key`` (``parameters``, ``catalog``) of ``conf/<environment>`` merged over base.

    Each call reads the files afresh, so callers may change what it returns.
    """
    with warnings.catch_warnings():
        # OmegaConf's notice about how Kedro registers its resolvers is not ours to act on.
        warnings.simplefilter("ignore", UserWarning)
        loader = CONFIG_LOADER_CLASS(
            str(conf),
            base_env="base",
            default_run_env=environment,
            merge_strategy=CONFIG_LOADER_ARGS["merge_strategy"],
        )
        return dict(loader[key])


def deep_update(base: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` with ``changes`` merged in, nested mappings key by key (neither is changed)."""
    merged = copy.deepcopy(dict(base))
    for key, value in changes.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = deep_update(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def small_changes(changes: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """``SMALL`` with a test's own ``changes`` merged over it: what differs from conf/base."""
    return deep_update(SMALL, changes or {})


def small_parameters(
    changes: Mapping[str, Any] | None = None, conf: Path = PROJECT_CONF
) -> dict[str, Any]:
    """The parameters of ``conf/base`` shrunk by ``SMALL``, then by a test's own ``changes``."""
    return deep_update(load_conf("parameters", conf), small_changes(changes))


def small_table(
    parameters: Mapping[str, Any], rows: int = 120, seed: int = 0, **demo_overrides: Any
) -> pd.DataFrame:
    """A synthetic raw table with the parameters' columns, target and demo spec.

    ``demo_overrides`` replace top-level entries of the ``demo`` spec.
    """
    spec = copy.deepcopy(dict(parameters["demo"])) | demo_overrides
    columns = {name: configured_columns(parameters.get(name)) for name in MODALITIES}
    return make_table(columns, parameters["table"]["target"], rows, spec, seed)


def with_neighbours(parameters: Mapping[str, Any]) -> dict[str, Any]:
    """``parameters`` with the neighbours reading the categorical columns again (the demo,
    whose columns the small project has, leaves them off)."""
    changed = copy.deepcopy(dict(parameters))
    columns = configured_columns(changed["categorical"])
    changed["neighbours"] = {**changed["neighbours"], "columns": columns}
    return changed
