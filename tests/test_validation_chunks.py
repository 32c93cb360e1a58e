"""Validation read chunk by chunk: the same primary table, the same errors, whatever the chunks."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from kedro.io import DataCatalog, MemoryDataset
from kedro.runner import SequentialRunner
from kedro_datasets.pandas import ParquetDataset

from multimodal_keras import missing_values, tables
from multimodal_keras.datasets import TableDataset
from multimodal_keras.errors import MultimodalKerasError
from multimodal_keras.modalities import MODALITIES
from multimodal_keras.modalities.base import configured_columns
from multimodal_keras.pipelines.data_processing import create_pipeline
from multimodal_keras.pipelines.data_processing.nodes import (
    encode_target,
    fit_target,
    split_rows,
    validate_table,
)
from multimodal_keras.validation import validate

CHUNK_ROWS = [1, 7, 100_000]


def modalities(params: dict[str, Any]) -> dict[str, Any]:
    return {name: params[name] for name in MODALITIES}


def streamed(raw: pd.DataFrame | tables.TableChunks, params: dict[str, Any], rows: int) -> Any:
    primary, _ = validate_table(
        raw, params["table"], params["split"], {"chunk_rows": rows}, **modalities(params)
    )
    return primary


def whole(raw: pd.DataFrame, params: dict[str, Any]) -> pd.DataFrame:
    """The primary table as validating the whole frame at once makes it."""
    read = [column for name in MODALITIES for column in configured_columns(params[name])]
    markers = missing_values.resolve(params["table"], [*read, params["table"]["target"]])
    group = params["split"].get("group_column")
    return validate(raw, params["table"], group, modalities(params), markers)


def written_whole(raw: pd.DataFrame, params: dict[str, Any], path: Path) -> pd.DataFrame:
    ParquetDataset(filepath=str(path)).save(whole(raw, params))
    return pd.read_parquet(path)


def written_streamed(table: tables.TableChunks, path: Path) -> pd.DataFrame:
    TableDataset(filepath=str(path)).save(table)
    return pd.read_parquet(path)


@pytest.fixture
def demo() -> tuple[pd.DataFrame, dict[str, Any]]:
    from tests.configuration import load_conf

    return pd.read_parquet("data/01_raw/demo_table.parquet"), load_conf("parameters")


@pytest.fixture
def dropped(make_tiny_table, small_parameters) -> tuple[pd.DataFrame, dict[str, Any]]:
    """A table with an id column, rows without a target, unusable numbers (dropped), a
    categorical column mixing numbers and words, and chunks where a column is all missing."""
    params = copy.deepcopy(small_parameters)
    raw = make_tiny_table(rows=80, seed=3)
    target = params["table"]["target"]
    number = params["numerical"]["columns"][0]
    category = params["categorical"]["columns"][0]
    raw.loc[[2, 9, 40], target] = None
    raw[number] = raw[number].astype(object)
    raw.loc[[5, 33], number] = "bad"
    raw.loc[60:75, number] = None  # every cell of some chunks missing
    raw[category] = raw[category].astype(object)
    raw.loc[[10, 50], category] = 7
    raw.loc[14:27, category] = None
    raw.loc[[20, 66], category] = " ? "  # a missing-value marker
    raw["listing"] = [f"id{3 * i}" for i in range(len(raw))]
    params["table"]["missing_values"] = ["?"]
    params["numerical"]["invalid_rows"] = "drop"
    params["table"]["id_column"] = "listing"
    return raw, params


@pytest.mark.parametrize("rows", CHUNK_ROWS)
@pytest.mark.parametrize("case", ["demo", "dropped"])
def test_the_streamed_primary_table_is_the_one_validating_the_whole_table_writes(
    case, rows, request, tmp_path
):
    raw, params = request.getfixturevalue(case)
    if rows == 1:
        raw = raw.iloc[:300]  # a row per chunk: the demo table's first rows are enough
    expected = written_whole(raw, params, tmp_path / "whole.parquet")

    table = streamed(raw, params, rows)
    written = written_streamed(table, tmp_path / "streamed.parquet")

    pd.testing.assert_frame_equal(written, expected)
    assert pq.read_schema(tmp_path / "streamed.parquet").equals(
        pq.read_schema(tmp_path / "whole.parquet"), check_metadata=False
    )
    assert pq.ParquetFile(tmp_path / "streamed.parquet").metadata.num_row_groups <= -(
        -len(raw) // rows
    )
    pd.testing.assert_frame_equal(table.to_pandas(), whole(raw, params), check_dtype=False)


@pytest.mark.parametrize("rows", [1, 7])
def test_the_log_lines_are_the_whole_tables(dropped, rows, caplog):
    raw, params = dropped
    with caplog.at_level("INFO", logger="multimodal_keras"):
        streamed(raw, params, len(raw))
        whole_lines = [record.getMessage() for record in caplog.records]
        caplog.clear()
        streamed(raw, params, rows)
    assert [record.getMessage() for record in caplog.records] == whole_lines
    assert any(
        "holding a missing-value marker as missing: 'category': 2" in line for line in whole_lines
    )
    assert len(whole_lines) == 5  # markers, no target, unusable numbers, mixed types, validated


def test_dropped_rows_keep_their_row_ids_and_gaps_when_there_is_no_id_column(dropped):
    raw, params = dropped
    params["table"]["id_column"] = None
    raw = raw.drop(columns=["listing"])
    primary = streamed(raw, params, 7).to_pandas()
    assert not {2, 9, 40, 5, 33} & set(primary["row_id"])
    assert primary["row_id"].tolist() == [i for i in range(80) if i not in {2, 9, 40, 5, 33}]


def test_split_and_target_read_from_chunks_match_the_whole_table(dropped):
    raw, params = dropped
    table = streamed(raw, params, 7)
    frame = whole(raw, params)
    split = split_rows(table, params["table"], params["split"], seed=0)
    pd.testing.assert_frame_equal(split, split_rows(frame, params["table"], params["split"], 0))
    encoder = fit_target(table, split, params["table"])
    pd.testing.assert_frame_equal(encode_target(encoder, table), encode_target(encoder, frame))


def message(raw: pd.DataFrame, params: dict[str, Any], rows: int) -> str:
    with pytest.raises(MultimodalKerasError) as error:
        streamed(raw, params, rows)
    return str(error.value)


def test_an_id_repeated_in_two_chunks_stops_the_run_as_it_does_in_one(dropped):
    raw, params = dropped
    raw.loc[70, "listing"] = raw.loc[1, "listing"]
    expected = message(raw, params, len(raw))
    assert "must be unique" in expected and "'id3'" in expected
    for rows in (1, 7):
        assert message(raw, params, rows) == expected


def test_a_target_constant_in_every_chunk_stops_the_run_only_when_it_is_constant_overall(
    make_tiny_table, small_parameters
):
    params = small_parameters
    target = params["table"]["target"]
    raw = make_tiny_table(rows=20, seed=1)
    raw[target] = 1
    expected = message(raw, params, len(raw))
    assert "has one value only (1)" in expected
    assert message(raw, params, 10) == expected
    raw.loc[10:, target] = 0  # each chunk of 10 holds one value, the table two
    assert len(streamed(raw, params, 10)) == 20


@pytest.mark.parametrize(
    "change, expected",
    [
        (lambda raw, p: raw.drop(columns=[p["table"]["target"]]), "lacks the configured column"),
        (lambda raw, p: raw.iloc[:0], "has no rows"),
        (
            lambda raw, p: raw.assign(**{p["numerical"]["columns"][0]: "x"}),
            "have numerical values that cannot be used",
        ),
    ],
)
def test_problems_that_need_every_row_give_the_whole_tables_message(
    make_tiny_table, small_parameters, change, expected
):
    raw = change(make_tiny_table(rows=30, seed=2), small_parameters)
    whole_message = message(raw, small_parameters, max(len(raw), 1))
    assert expected in whole_message
    assert message(raw, small_parameters, 4) == whole_message


def test_a_csv_raw_table_is_read_in_chunks(make_tiny_table, small_parameters, tmp_path):
    raw = make_tiny_table(rows=50, seed=4).drop(columns=small_parameters["image"]["columns"])
    params = copy.deepcopy(small_parameters)
    params["image"]["columns"] = []
    raw.loc[7:13, params["categorical"]["columns"][0]] = None  # a chunk without a value
    raw.to_csv(tmp_path / "raw.csv", sep=";", index=False)
    dataset = TableDataset(
        filepath=str(tmp_path / "raw.csv"), load_args={"chunk_rows": 7, "sep": ";"}
    )
    table = streamed(dataset.load(), params, 7)
    expected = whole(pd.read_csv(tmp_path / "raw.csv", sep=";"), params)
    pd.testing.assert_frame_equal(written_streamed(table, tmp_path / "p.parquet"), expected)


def run_data_processing(raw_path: Path, primary_path: Path, params: dict[str, Any]) -> None:
    pipeline = create_pipeline().only_nodes("validate_table")
    catalog = DataCatalog(
        {
            "raw_table": TableDataset(filepath=str(raw_path), load_args={"chunk_rows": 7}),
            "primary_table": TableDataset(filepath=str(primary_path)),
            "missing_value_markers": MemoryDataset(),
        }
    )
    for name in pipeline.inputs():
        if name.startswith("params:"):
            catalog[name] = MemoryDataset(params[name.removeprefix("params:")])
    SequentialRunner().run(pipeline, catalog)


def test_a_failed_validation_leaves_the_earlier_primary_table_as_it_was(dropped, tmp_path):
    raw, params = dropped
    category, number = params["categorical"]["columns"][0], params["numerical"]["columns"][0]
    # A Parquet column holds one type.
    raw[category] = raw[category].astype("string")
    raw[number] = pd.to_numeric(raw[number], errors="coerce")
    raw.to_parquet(tmp_path / "raw.parquet")
    primary = tmp_path / "primary.parquet"
    run_data_processing(tmp_path / "raw.parquet", primary, params)
    before = primary.read_bytes()
    assert len(pd.read_parquet(primary)) == len(whole(raw, params))

    raw.loc[70, "listing"] = raw.loc[1, "listing"]
    raw.to_parquet(tmp_path / "raw.parquet")
    with pytest.raises(MultimodalKerasError, match="must be unique"):
        run_data_processing(tmp_path / "raw.parquet", primary, params)
    assert primary.read_bytes() == before
    assert [path.name for path in tmp_path.iterdir() if path.name.startswith(".")] == []


def test_numbers_all_missing_in_a_chunk_are_stored_as_the_others(small_parameters, tmp_path):
    params = copy.deepcopy(small_parameters)
    number = params["numerical"]["columns"][0]
    frame = pd.DataFrame(
        {params["table"]["target"]: [0, 1] * 10, number: [np.nan] * 10 + list(range(10))}
    )
    for name in MODALITIES:
        params[name]["columns"] = []
    params["numerical"]["columns"] = [number]
    written = written_streamed(streamed(frame, params, 5), tmp_path / "p.parquet")
    pd.testing.assert_frame_equal(written, whole(frame, params))


def test_a_csv_column_of_numbers_in_some_chunks_and_words_in_others_is_read_as_strings(
    make_tiny_table, small_parameters, tmp_path, caplog
):
    params = copy.deepcopy(small_parameters)
    category = params["categorical"]["columns"][0]
    raw = make_tiny_table(rows=30, seed=5).drop(columns=params["image"]["columns"])
    params["image"]["columns"] = []
    raw[category] = raw[category].astype(object)
    raw.loc[:13, category] = list(range(14))  # two chunks of numbers, then words
    raw.to_csv(tmp_path / "raw.csv", index=False)
    table = TableDataset(filepath=str(tmp_path / "raw.csv"), load_args={"chunk_rows": 7}).load()
    assert next(table.chunks([category]))[category].dtype == np.int64

    with caplog.at_level("WARNING"):
        written = written_streamed(streamed(table, params, 7), tmp_path / "p.parquet")

    assert written[category].tolist() == raw[category].astype(str).tolist()
    assert written[category].dtype == "string"
    assert [r.getMessage() for r in caplog.records if "mixes value types" in r.getMessage()] == [
        f"Column {category!r} mixes value types (int, str); every value is read as a string."
    ]
