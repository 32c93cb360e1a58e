"""TableDataset: tables loaded as TableChunks, saved row group by row group, atomically."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from kedro.io import DatasetError
from kedro.io.core import Version

from multimodal_keras import tables
from multimodal_keras.datasets import TableDataset


@pytest.fixture
def frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "row_id": np.arange(10),
            "colour": ["red", None, "blue", None, "red", None, None, None, None, "green"],
            "size": [np.nan] * 5 + [1.5, 2.0, 3.0, 4.0, 5.0],
            "photo": pd.Series([None] * 5 + [b"\x89PNG"] * 5, dtype=object),
        }
    )


def test_a_saved_frame_loads_as_table_chunks_of_the_same_rows_and_dtypes(frame, tmp_path):
    dataset = TableDataset(filepath=str(tmp_path / "t.parquet"), load_args={"chunk_rows": 4})
    dataset.save(frame)

    table = dataset.load()

    assert isinstance(table, tables.TableChunks)
    assert [len(chunk) for chunk in table.chunks()] == [4, 4, 2]
    pd.testing.assert_frame_equal(table.to_pandas(), pd.read_parquet(tmp_path / "t.parquet"))
    pd.testing.assert_frame_equal(table.to_pandas(), frame, check_dtype=False)
    assert (
        table.to_pandas()["colour"].dtype == pd.read_parquet(tmp_path / "t.parquet")["colour"].dtype
    )


def test_chunks_are_written_one_row_group_each_with_one_schema(frame, tmp_path):
    """The first chunk's photos and sizes are all missing: the table's schema still holds."""
    dataset = TableDataset(filepath=str(tmp_path / "t.parquet"))
    source = tables.from_frame(frame, 5)
    schema = pq.read_schema(_written(frame, tmp_path / "whole.parquet"))
    dataset.save(tables.TableChunks(source.columns, source.read, len(frame), schema))

    stored = pq.ParquetFile(tmp_path / "t.parquet")
    assert stored.metadata.num_row_groups == 2
    assert stored.schema_arrow.equals(schema, check_metadata=False)
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "t.parquet"), frame)


def _written(frame: pd.DataFrame, path) -> str:
    frame.to_parquet(path)
    return str(path)


def test_chunks_without_a_schema_take_the_first_chunks(frame, tmp_path):
    dataset = TableDataset(filepath=str(tmp_path / "t.parquet"))
    source = tables.from_frame(frame[["row_id", "colour"]], 3)
    dataset.save(source)
    pd.testing.assert_frame_equal(dataset.load().to_pandas(), frame[["row_id", "colour"]])


def test_a_failed_save_leaves_the_previous_file_as_it_was(frame, tmp_path):
    path = tmp_path / "t.parquet"
    dataset = TableDataset(filepath=str(path))
    dataset.save(frame)
    before = path.read_bytes()

    def read(columns: list[str] | None) -> Iterator[pd.DataFrame]:
        yield frame.iloc[:3]
        raise OSError("the source went away")

    with pytest.raises(DatasetError, match="the source went away"):
        dataset.save(tables.TableChunks(tuple(frame.columns), read))
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.parquet"]


def test_a_chunk_of_another_type_is_refused_naming_its_rows(tmp_path):
    def read(columns: list[str] | None) -> Iterator[pd.DataFrame]:
        yield pd.DataFrame({"a": [1, 2]})
        yield pd.DataFrame({"a": ["x", "y"]})

    with pytest.raises(DatasetError, match="Rows 2 to 3 do not fit"):
        TableDataset(filepath=str(tmp_path / "t.parquet")).save(tables.TableChunks(("a",), read))
    assert not (tmp_path / "t.parquet").exists()


def test_a_csv_table_loads_in_chunks_with_its_read_args(frame, tmp_path):
    frame[["row_id", "colour", "size"]].to_csv(tmp_path / "t.csv", sep=";", index=False)
    dataset = TableDataset(
        filepath=str(tmp_path / "t.csv"), load_args={"chunk_rows": 3, "sep": ";"}
    )

    table = dataset.load()

    assert table.columns == ("row_id", "colour", "size")
    assert [len(chunk) for chunk in table.chunks()] == [3, 3, 3, 1]
    # pandas reads each chunk's types: a chunk without colours holds floats.
    expected = pd.read_csv(tmp_path / "t.csv", sep=";")
    pd.testing.assert_frame_equal(table.to_pandas(), expected, check_dtype=False)


def test_the_format_comes_from_the_suffix_or_file_format(frame, tmp_path):
    frame[["row_id"]].to_csv(tmp_path / "table.txt", index=False)
    dataset = TableDataset(filepath=str(tmp_path / "table.txt"), file_format="csv")
    assert dataset.load().column("row_id").tolist() == list(range(10))
    with pytest.raises(DatasetError, match="cannot tell the format"):
        TableDataset(filepath=str(tmp_path / "table.txt"))
    with pytest.raises(DatasetError, match="apply to CSV files only"):
        TableDataset(filepath=str(tmp_path / "t.parquet"), load_args={"sep": ";"})


def test_versions_are_saved_and_loaded_like_the_other_datasets(frame, tmp_path):
    path = str(tmp_path / "t.parquet")
    TableDataset(filepath=path, version=Version(None, "v1")).save(frame.iloc[:4])
    TableDataset(filepath=path, version=Version(None, "v2")).save(frame)
    assert len(TableDataset(filepath=path, version=Version(None, None)).load()) == 10
    assert len(TableDataset(filepath=path, version=Version("v1", None)).load()) == 4


def test_describe_and_preview(frame, tmp_path):
    dataset = TableDataset(filepath=str(tmp_path / "t.parquet"), save_args={"compression": "zstd"})
    dataset.save(frame[["row_id", "size"]])
    assert "file_format='parquet'" in str(dataset)
    assert pq.ParquetFile(tmp_path / "t.parquet").metadata.row_group(0).column(0).compression == (
        "ZSTD"
    )
    preview = dataset.preview(nrows=2)
    assert preview["columns"] == ["row_id", "size"]
    assert [row[0] for row in preview["data"]] == [0, 1]


def test_a_csv_table_is_saved_as_csv_chunk_by_chunk(frame, tmp_path):
    columns = ["row_id", "colour", "size"]
    dataset = TableDataset(filepath=str(tmp_path / "t.csv"), save_args={"sep": ";"})
    dataset.save(tables.from_frame(frame[columns], 3))
    expected = frame[columns].to_csv(sep=";", index=False)
    assert (tmp_path / "t.csv").read_text() == expected
