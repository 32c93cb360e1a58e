"""Project hooks: one line and one record per node; MLflow run records only with the extra."""

from __future__ import annotations

import json
import logging
import mmap
import os
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from kedro.framework.hooks.manager import _create_hook_manager
from kedro.io import DataCatalog, MemoryDataset
from kedro.pipeline import Pipeline, node
from kedro.runner import SequentialRunner
from kedro_datasets.json import JSONDataset

from multimodal_keras import hooks
from tests.configuration import load_conf


def first_rows(table: pd.DataFrame, count: int) -> pd.DataFrame:
    return table.head(count)


def as_array(table: pd.DataFrame) -> np.ndarray:
    return table.to_numpy()


def fail(table: pd.DataFrame) -> pd.DataFrame:
    raise RuntimeError("on purpose")


def run_with_hooks(
    pipeline: Pipeline, catalog: DataCatalog, recorder: hooks.NodeRecordHooks
) -> None:
    """Run as a Kedro session does: pipeline hooks around the runner, node hooks inside it."""
    manager = _create_hook_manager()
    manager.register(recorder)
    recorder.before_pipeline_run()
    try:
        SequentialRunner().run(pipeline, catalog, manager)
    except Exception:
        recorder.on_pipeline_error(catalog)
        raise
    recorder.after_pipeline_run(catalog)


@pytest.fixture
def catalog(tmp_path: Path) -> DataCatalog:
    table = pd.DataFrame({"a": range(10), "b": range(10)})
    return DataCatalog(
        {
            "table": MemoryDataset(table),
            "params:count": MemoryDataset(3),
            "run_timings": JSONDataset(filepath=str(tmp_path / "run_timings.json")),
        }
    )


def test_each_node_logs_one_line_with_time_memory_and_the_shapes_it_read_and_wrote(
    catalog, tmp_path, caplog
):
    pipeline = Pipeline(
        [
            node(first_rows, ["table", "params:count"], "head", name="take_head"),
            node(as_array, "head", "array", name="to_array"),
        ]
    )
    with caplog.at_level(logging.INFO, logger=hooks.__name__):
        run_with_hooks(pipeline, catalog, hooks.NodeRecordHooks(timings_dataset="run_timings"))
    lines = [record.getMessage() for record in caplog.records if record.name == hooks.__name__]
    assert len(lines) == 2
    assert lines[0].startswith("take_head: ")
    assert " s, peak memory " in lines[0]
    assert lines[0].endswith("read table 10x2; wrote head 3x2.")
    assert lines[1].endswith("read head 3x2; wrote array 3x2.")

    timings = json.loads((tmp_path / "run_timings.json").read_text())
    assert [record["node"] for record in timings["nodes"]] == ["take_head", "to_array"]
    assert timings["nodes"][0]["inputs"] == {"table": "10x2"}  # parameters are left out
    assert all(record["peak_memory_mib"] > 0 for record in timings["nodes"])
    assert timings["peak_memory_scope"] in {"node", "process"}


def test_a_failing_node_is_recorded_with_its_error_and_the_timings_still_saved(catalog, tmp_path):
    pipeline = Pipeline([node(fail, "table", "never", name="fails")])
    with pytest.raises(RuntimeError, match="on purpose"):
        run_with_hooks(pipeline, catalog, hooks.NodeRecordHooks(timings_dataset="run_timings"))
    timings = json.loads((tmp_path / "run_timings.json").read_text())
    assert timings["nodes"][0]["error"] == "RuntimeError: on purpose"


def test_without_a_timings_dataset_in_the_catalog_nothing_is_saved(tmp_path):
    catalog = DataCatalog({"table": MemoryDataset(pd.DataFrame({"a": [1]}))})
    recorder = hooks.NodeRecordHooks(timings_dataset="run_timings")
    run_with_hooks(Pipeline([node(as_array, "table", "array", name="to_array")]), catalog, recorder)
    assert [record["node"] for record in recorder.timings()["nodes"]] == ["to_array"]


def test_peak_memory_rises_with_an_allocation_and_starts_again_after_a_reset():
    if not hooks.reset_peak_memory():
        pytest.skip("this system cannot reset the peak resident set size")
    before = hooks.peak_memory_mib()
    # 100 MiB mapped for this test alone, every page written: closing the map returns them
    # to the system, whereas a freed malloc block may stay in the heap, resident.
    block = mmap.mmap(-1, 100 * 2**20)
    np.frombuffer(block, dtype=np.uint8).fill(1)
    during = hooks.peak_memory_mib()
    block.close()
    hooks.reset_peak_memory()
    after = hooks.peak_memory_mib()
    assert during - before > 90
    assert after < during - 90


def test_shapes_describe_tables_arrays_mappings_and_text():
    assert hooks.shape_of(pd.DataFrame({"a": [1, 2]})) == "2x1"
    assert hooks.shape_of(np.zeros((4, 1, 8, 8, 3))) == "4x1x8x8x3"
    assert hooks.shape_of({"a": 1, "b": 2}) == "2 entries"
    assert hooks.shape_of("<html>") == "6 characters"


def test_numeric_leaves_are_flattened_to_dotted_names():
    metrics = {"task": "binary", "model": {"auc": 0.9, "matrix": [[1]], "ok": True, "n": 3}}
    assert hooks.numeric_leaves(metrics, "metrics") == {
        "metrics.model.auc": 0.9,
        "metrics.model.n": 3.0,
    }


def project_catalog_config() -> dict:
    return load_conf("catalog")


def test_without_mlflow_the_run_record_hooks_do_nothing(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "mlflow", None)  # as if the extra were not installed
    monkeypatch.delenv("MLFLOW_ALLOW_FILE_STORE", raising=False)
    monkeypatch.chdir(tmp_path)
    recorder = hooks.RunRecordHooks()
    recorder.after_context_created()
    recorder.after_catalog_created(project_catalog_config())
    recorder.after_dataset_saved("metrics", {"model": {"accuracy": 0.5}})
    assert not hooks.mlflow_installed()
    assert "MLFLOW_ALLOW_FILE_STORE" not in os.environ
    assert list(tmp_path.iterdir()) == []


def test_with_the_mlflow_extra_metrics_figures_model_and_report_are_recorded(monkeypatch, tmp_path):
    pytest.importorskip("kedro_mlflow", reason="the mlflow extra is not installed")
    import keras
    import mlflow
    from matplotlib.figure import Figure
    from mlflow.tracking import MlflowClient

    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    store = (tmp_path / "mlruns").as_uri()
    mlflow.set_tracking_uri(store)
    recorder = hooks.RunRecordHooks()
    recorder.after_catalog_created(project_catalog_config())
    figure = Figure()
    figure.add_subplot().plot([0, 1])
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    with mlflow.start_run() as run:
        recorder.after_dataset_saved("metrics", {"task": "binary", "model": {"roc_auc": 0.9}})
        recorder.after_dataset_saved("training_history", {"loss": [0.7, 0.5]})
        recorder.after_dataset_saved("learning_curves", figure)
        recorder.after_dataset_saved("evaluation_figures", {"roc_curve.png": figure})
        recorder.after_dataset_saved("trained_model", model)
        recorder.after_dataset_saved("run_report", "<html></html>")
        recorder.after_dataset_saved("split_assignments", pd.DataFrame())  # not a run record

    client = MlflowClient(tracking_uri=store)
    recorded = client.get_run(run.info.run_id)
    assert recorded.data.metrics["metrics.model.roc_auc"] == 0.9
    steps = client.get_metric_history(run.info.run_id, "training_history.loss")
    assert [(point.step, point.value) for point in steps] == [(1, 0.7), (2, 0.5)]
    artifacts = {item.path for item in client.list_artifacts(run.info.run_id)}
    assert artifacts == {"figures", "model", "metrics.json", "run_report.html"}
    figures = {item.path for item in client.list_artifacts(run.info.run_id, "figures")}
    assert figures == {"figures/learning_curves.png", "figures/roc_curve.png"}
    models = {item.path for item in client.list_artifacts(run.info.run_id, "model")}
    assert models == {"model/trained_model.keras"}
