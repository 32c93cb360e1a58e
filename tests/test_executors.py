"""chunk_map: the same results, in the same order, in this process and on a Dask cluster.

The Dask tests start one ``LocalCluster`` of two worker processes for the module and run
the project's own per-chunk steps on it: the fit sample's smallest keys and the modalities'
transforms, over a real table read chunk by chunk from Parquet.
"""

from __future__ import annotations

import functools
import sys
import time
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
import pytest

from multimodal_keras import executors, tables
from multimodal_keras.errors import MultimodalKerasError
from multimodal_keras.modalities import MODALITIES
from multimodal_keras.modalities.base import ROW_ID
from multimodal_keras.validation import with_row_ids
from tests.configuration import small_table
from tests.fitting import fit_on_rows

CHUNK_ROWS = 50
ROWS = 400
SAMPLE_ROWS = 60
SEED = 7
REFUSED = "Column 'amount' holds text in row 250; fix the cell or drop the row."

LOCAL = {"executor": "local"}
# Starts worker processes: left out by pytest -m "not integration".
integration = pytest.mark.integration


def dask_processing(address: str | None = None) -> dict[str, Any]:
    return {
        "executor": "dask",
        "dask": {"address": address, "workers": 2, "threads_per_worker": 1},
    }


@pytest.fixture(scope="module")
def cluster() -> Iterator[dict[str, Any]]:
    """The ``processing`` settings of a LocalCluster of two worker processes, closed after."""
    pytest.importorskip("distributed")
    processing = dask_processing()
    executors.client(processing["dask"])
    yield processing
    executors.close_clients()


@pytest.fixture(scope="module")
def table(tmp_path_factory: pytest.TempPathFactory, shared_small_parameters) -> tables.TableChunks:
    frame = with_row_ids(small_table(shared_small_parameters, rows=ROWS, seed=3), None)
    path = tmp_path_factory.mktemp("executors") / "table.parquet"
    frame.to_parquet(path, row_group_size=CHUNK_ROWS)
    return tables.from_parquet(path, CHUNK_ROWS)


def chunk_sample(chunk: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
    return tables.smallest_keys(chunk, tables.row_keys(chunk[ROW_ID], SEED), SAMPLE_ROWS)


def refuse_late_rows(chunk: pd.DataFrame) -> int:
    if chunk.index[-1] >= 250:
        raise MultimodalKerasError(REFUSED)
    return len(chunk)


def first_row_when_finished(chunk: pd.DataFrame, chunks: int) -> tuple[int, float]:
    """The chunk's first row and when it finished: earlier chunks take longer."""
    position = int(chunk.index[0]) // CHUNK_ROWS
    time.sleep(0.1 * (chunks - position))
    return int(chunk.index[0]), time.time()


@integration
def test_the_sample_step_is_the_same_on_dask(cluster, table):
    samples = {
        name: tables.merge_samples(
            executors.chunk_map(chunk_sample, table.chunks(), processing), SAMPLE_ROWS
        )
        for name, processing in (("local", LOCAL), ("dask", cluster))
    }
    pd.testing.assert_frame_equal(samples["dask"][0], samples["local"][0])
    np.testing.assert_array_equal(samples["dask"][1], samples["local"][1])
    assert len(samples["dask"][0]) == SAMPLE_ROWS


@pytest.mark.parametrize("modality", ["numerical", "categorical"])
@integration
def test_a_modality_transform_is_the_same_on_dask(
    cluster, table, shared_small_parameters, modality
):
    module = MODALITIES[modality]
    options = shared_small_parameters[modality]
    target = shared_small_parameters["table"]["target"]
    preprocessor = fit_on_rows(modality, table.frame().iloc[: ROWS // 2], options, target)
    transform = functools.partial(module.transform, preprocessor)

    local = list(executors.chunk_map(transform, table.chunks(), LOCAL))
    on_dask = list(executors.chunk_map(transform, table.chunks(), cluster))

    assert len(on_dask) == len(local) == ROWS // CHUNK_ROWS
    for ours, theirs in zip(on_dask, local, strict=True):
        pd.testing.assert_frame_equal(ours, theirs)


@integration
def test_a_running_scheduler_is_reached_by_its_address(cluster, table):
    address = executors.client(cluster["dask"]).scheduler.address
    lengths = executors.chunk_map(len, table.chunks(), dask_processing(address))
    assert list(lengths) == [CHUNK_ROWS] * (ROWS // CHUNK_ROWS)


@integration
def test_a_workers_error_reaches_the_caller_as_it_was_raised(cluster, table):
    with pytest.raises(MultimodalKerasError) as raised:
        list(executors.chunk_map(refuse_late_rows, table.chunks(), cluster))
    assert str(raised.value) == REFUSED


@integration
def test_results_keep_the_chunks_order_when_they_finish_out_of_order(cluster, table):
    chunks = ROWS // CHUNK_ROWS
    step = functools.partial(first_row_when_finished, chunks=chunks)
    results = list(executors.chunk_map(step, table.chunks(), cluster))

    assert [row for row, _ in results] == list(range(0, ROWS, CHUNK_ROWS))
    finished = [when for _, when in results]
    assert finished != sorted(finished)  # a later chunk finished before an earlier one


@integration
def test_only_a_few_chunks_are_read_ahead(cluster, table):
    read: list[int] = []

    def counted() -> Iterator[pd.DataFrame]:
        for chunk in table.chunks():
            read.append(len(chunk))
            yield chunk

    results = executors.chunk_map(len, counted(), cluster)
    next(results)
    threads = cluster["dask"]["workers"] * cluster["dask"]["threads_per_worker"]
    assert len(read) <= threads * executors.IN_FLIGHT_PER_THREAD
    assert sum(results) + CHUNK_ROWS == ROWS


def test_without_dask_installed_the_error_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(MultimodalKerasError, match=r"pip install .*multimodal-keras\[dask\]"):
        executors.chunk_map(len, [], dask_processing())


def test_an_address_where_no_scheduler_answers_is_named():
    dask = pytest.importorskip("dask")
    processing = dask_processing("tcp://127.0.0.1:9")
    with (
        dask.config.set({"distributed.comm.timeouts.connect": "1s"}),
        pytest.raises(
            MultimodalKerasError, match=r"No Dask scheduler answered at .*127\.0\.0\.1:9"
        ),
    ):
        executors.chunk_map(len, [], processing)


def test_an_unknown_executor_is_refused():
    with pytest.raises(MultimodalKerasError, match="local, dask"):
        executors.chunk_map(len, [], {"executor": "spark"})


def test_the_local_executor_maps_in_order():
    assert list(executors.chunk_map(len, [[1], [1, 2], []], LOCAL)) == [1, 2, 0]
