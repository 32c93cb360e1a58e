"""TableChunks: the same rows whatever the source and the chunk size; seeded samples."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from multimodal_keras import tables


@pytest.fixture
def frame() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {
            "row_id": np.arange(1000),
            "colour": rng.choice(["red", "green", None], 1000),
            "size": rng.normal(size=1000),
        }
    )


@pytest.mark.parametrize("chunk_rows", [1, 7, 1000, 5000])
def test_every_source_reads_the_same_rows(frame, tmp_path, chunk_rows):
    frame.to_parquet(tmp_path / "t.parquet", row_group_size=64)
    frame.to_csv(tmp_path / "t.csv", index=False)
    sources = [
        tables.from_frame(frame, chunk_rows),
        tables.from_parquet(tmp_path / "t.parquet", chunk_rows),
        tables.from_csv(tmp_path / "t.csv", chunk_rows),
    ]
    for source in sources:
        assert len(source) == len(frame)
        assert all(len(chunk) <= chunk_rows for chunk in source.chunks())
        read = source.to_pandas()
        assert read["row_id"].tolist() == frame["row_id"].tolist()
        assert read["size"].to_numpy() == pytest.approx(frame["size"].to_numpy())
        assert read["colour"].isna().tolist() == frame["colour"].isna().tolist()
        assert source.column("row_id").index.tolist() == list(range(len(frame)))
        assert list(next(source.chunks(["size"])).columns) == ["size"]


def test_the_sample_is_the_same_however_the_table_is_chunked(frame):
    samples = [
        tables.seeded_sample(tables.from_frame(frame, rows).chunks(), "row_id", 100, seed=3)
        for rows in (10, 333, 1000)
    ]
    for sample in samples[1:]:
        pd.testing.assert_frame_equal(sample, samples[0])
    assert len(samples[0]) == 100
    assert samples[0]["row_id"].is_monotonic_increasing  # the table's order


def test_the_seed_changes_the_sample_and_a_small_table_is_kept_whole(frame):
    first = tables.seeded_sample([frame], "row_id", 100, seed=1)
    second = tables.seeded_sample([frame], "row_id", 100, seed=2)
    assert set(first["row_id"]) != set(second["row_id"])
    whole = tables.seeded_sample(tables.from_frame(frame, 64).chunks(), "row_id", 1000, seed=1)
    pd.testing.assert_frame_equal(whole, frame)


def test_a_sample_is_close_to_uniform(frame):
    big = pd.DataFrame({"row_id": np.arange(200_000)})
    sample = tables.seeded_sample(tables.from_frame(big, 30_000).chunks(), "row_id", 20_000, 0)
    counts = np.histogram(sample["row_id"], bins=10, range=(0, 200_000))[0]
    assert counts.min() > 1800 and counts.max() < 2200
