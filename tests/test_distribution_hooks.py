"""DistributionHooks: no ParallelRunner, the strategy set up before a run that trains, and
a non-chief worker whose outputs stay in memory."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pandas as pd
import pytest
import tensorflow as tf
from kedro.io import DataCatalog, MemoryDataset, SharedMemoryDataCatalog
from kedro.pipeline import Pipeline, node
from kedro.runner import SequentialRunner
from kedro_datasets.json import JSONDataset
from kedro_datasets.pandas import ParquetDataset

from multimodal_keras import hooks
from multimodal_keras.errors import MultimodalKerasError
from multimodal_keras.model import distribute

WORKER_1 = json.dumps(
    {"cluster": {"worker": ["localhost:1", "localhost:2"]}, "task": {"type": "worker", "index": 1}}
)


def count_rows(table: pd.DataFrame, training: dict) -> dict:
    return {"rows": len(table)}


def double(counted: dict) -> dict:
    return {"rows": 2 * counted["rows"]}


def training_pipeline() -> Pipeline:
    return Pipeline(
        [
            node(count_rows, ["table", "params:training"], "counted", name="count_rows"),
            node(double, "counted", "doubled", name="double"),
        ]
    )


@pytest.fixture
def catalog(tmp_path: Path) -> DataCatalog:
    table = tmp_path / "table.parquet"
    pd.DataFrame({"a": range(5)}).to_parquet(table)
    return DataCatalog(
        {
            "table": ParquetDataset(filepath=str(table)),
            "params:training": MemoryDataset({"distribution": {"strategy": "multi_worker"}}),
            "counted": JSONDataset(filepath=str(tmp_path / "counted.json")),
            "doubled": JSONDataset(filepath=str(tmp_path / "doubled.json")),
            "run_timings": JSONDataset(filepath=str(tmp_path / "run_timings.json")),
        }
    )


@pytest.fixture
def prepared(monkeypatch) -> list[distribute.Distribution]:
    """``distribute.prepare`` recorded instead of run: a multi-worker strategy needs a fresh
    process (tests/integration/test_distributed_training.py starts two)."""
    calls: list[distribute.Distribution] = []

    def record(distribution: distribute.Distribution) -> tf.distribute.Strategy:
        calls.append(distribution)
        return tf.distribute.get_strategy()

    monkeypatch.setattr(distribute, "prepare", record)
    return calls


def test_parallel_runner_is_refused_with_the_runners_to_use_instead():
    with pytest.raises(MultimodalKerasError) as raised:
        hooks.DistributionHooks().before_pipeline_run(
            {"runner": "ParallelRunner"}, training_pipeline(), SharedMemoryDataCatalog()
        )

    message = str(raised.value)
    assert "ParallelRunner" in message
    assert "SequentialRunner" in message and "ThreadRunner" in message


def test_a_non_chief_worker_writes_nothing_and_runs_from_memory(
    catalog, tmp_path, prepared, monkeypatch, caplog
):
    monkeypatch.setenv("TF_CONFIG", WORKER_1)
    pipeline = training_pipeline()

    with caplog.at_level(logging.INFO):
        hooks.DistributionHooks().before_pipeline_run({"runner": None}, pipeline, catalog)
        SequentialRunner().run(pipeline, catalog)

    assert prepared == [distribute.Distribution("multi_worker")]
    assert sorted(path.name for path in tmp_path.iterdir()) == ["table.parquet"]
    assert catalog.load("doubled") == {"rows": 10}
    assert "worker 1, not the chief: the 3 datasets it could write stay in memory" in caplog.text
    assert "Replacing dataset" not in caplog.text


def test_the_chief_writes_as_usual(catalog, tmp_path, prepared, monkeypatch):
    monkeypatch.setenv("TF_CONFIG", WORKER_1.replace('"index": 1', '"index": 0'))
    pipeline = training_pipeline()

    hooks.DistributionHooks().before_pipeline_run({"runner": None}, pipeline, catalog)
    SequentialRunner().run(pipeline, catalog)

    assert (tmp_path / "doubled.json").exists()


def test_a_run_that_does_not_train_sets_up_no_strategy(catalog, prepared, monkeypatch):
    monkeypatch.setenv("TF_CONFIG", WORKER_1)
    pipeline = Pipeline([node(double, "counted", "doubled", name="double")])

    hooks.DistributionHooks().before_pipeline_run({"runner": None}, pipeline, catalog)

    assert prepared == []
    assert isinstance(catalog["doubled"], JSONDataset)


def test_the_default_strategy_needs_no_setting_up(catalog, prepared):
    catalog["params:training"] = MemoryDataset({"distribution": {"strategy": "default"}})

    hooks.DistributionHooks().before_pipeline_run({"runner": None}, training_pipeline(), catalog)

    assert prepared == []


def test_the_project_registers_the_distribution_hooks():
    from multimodal_keras.settings import HOOKS

    assert any(isinstance(hook, hooks.DistributionHooks) for hook in HOOKS)
