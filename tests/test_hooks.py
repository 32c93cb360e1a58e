"""Project hooks: one line and one record per node, saved after the run."""

from __future__ import annotations

import json
import logging
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
    block = np.ones(100 * 2**20 // 8)  # 100 MiB, every page written
    during = hooks.peak_memory_mib()
    del block
    hooks.reset_peak_memory()
    after = hooks.peak_memory_mib()
    assert during - before > 90
    assert after < during - 90


def test_shapes_describe_tables_arrays_mappings_and_text():
    assert hooks.shape_of(pd.DataFrame({"a": [1, 2]})) == "2x1"
    assert hooks.shape_of(np.zeros((4, 1, 8, 8, 3))) == "4x1x8x8x3"
    assert hooks.shape_of({"a": 1, "b": 2}) == "2 entries"
    assert hooks.shape_of("<html>") == "6 characters"
