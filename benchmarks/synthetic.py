"""A vectorised synthetic table for benchmarks: categorical, numerical, text and image columns.

``multimodal_keras.synthetic.make_table`` writes text one row at a time, which takes
over a minute at a million rows; this generator draws every column with whole-array
numpy and pyarrow calls, with the same kind of signal (each column adds to a hidden
score, the target is the score above its median) and the demo's word lists. Images
are small PNGs of a coloured disc or square on grey, drawn by Pillow in a process pool.

``make_benchmark_table`` draws the whole table in memory; ``write_benchmark_table`` writes
a table of any length to Parquet one row group at a time, so that the benchmark process
holds one group's rows whatever the table's size. The two draw the same kinds of columns
from different random streams, so their tables differ for the same seed.
"""

from __future__ import annotations

import io
import os
from collections.abc import Mapping
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from PIL import Image, ImageDraw

TARGET = "target"


def column_names(categorical: int, numerical: int, text: int, image: int) -> dict[str, list[str]]:
    """Column names per modality: ``category_0``, ``amount_0``, ``note_0``, ``photo_0``, ..."""
    return {
        "categorical": [f"category_{i}" for i in range(categorical)],
        "numerical": [f"amount_{i}" for i in range(numerical)],
        "text": [f"note_{i}" for i in range(text)],
        "image": [f"photo_{i}" for i in range(image)],
    }


def _texts(rng: np.random.Generator, rows: int, spec: Mapping[str, Any]) -> tuple[pa.Array, Any]:
    filler = np.asarray(spec["filler_words"], dtype=object)
    moods = {1: spec["positive_words"], -1: spec["negative_words"]}
    low, high = spec["filler_count"]
    sentiment = rng.integers(-1, 2, size=rows)
    counts = rng.integers(low, high, size=rows)
    words = []
    for slot in range(high - 1):
        picked = filler[rng.integers(0, len(filler), size=rows)]
        words.append(pa.array(np.where(slot < counts, picked, None), type=pa.string()))
    low, high = spec["sentiment_count"]
    counts = np.where(sentiment == 0, 0, rng.integers(low, high, size=rows))
    for slot in range(high - 1):
        picked = np.full(rows, None, dtype=object)
        for mood, pool in moods.items():
            chosen = np.asarray(pool, dtype=object)[rng.integers(0, len(pool), size=rows)]
            picked = np.where((sentiment == mood) & (slot < counts), chosen, picked)
        words.append(pa.array(picked, type=pa.string()))
    text = pc.binary_join_element_wise(*words, " ", null_handling="skip")
    return text, float(spec["effect"]) * sentiment


def _png_block(arguments: tuple[int, int, int, list[list[int]]]) -> tuple[list[bytes], np.ndarray]:
    seed, count, size, colours = arguments
    rng = np.random.default_rng(seed)
    images, codes = [], rng.integers(0, len(colours), size=count)
    for code in codes:
        background = int(rng.integers(170, 256))
        image = Image.new("RGB", (size, size), (background,) * 3)
        extent = int(rng.integers(size // 3, size // 2 + 1))
        left, top = (int(v) for v in rng.integers(0, size - extent, size=2))
        draw = ImageDraw.Draw(image)
        shape = draw.ellipse if rng.random() < 0.5 else draw.rectangle
        shape((left, top, left + extent, top + extent), fill=tuple(colours[code]))
        buffer = io.BytesIO()
        image.save(buffer, format="PNG")
        images.append(buffer.getvalue())
    return images, codes


def png_images(
    count: int, size: int, seed: int, colours: list[list[int]]
) -> tuple[list[bytes], np.ndarray]:
    """``count`` distinct ``size`` x ``size`` RGB PNGs drawn in parallel, and each one's colour."""
    block = 2_000
    jobs = [
        (seed * 1_000_003 + start, min(block, count - start), size, colours)
        for start in range(0, count, block)
    ]
    with ProcessPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        blocks = list(pool.map(_png_block, jobs))
    images = [image for block_images, _ in blocks for image in block_images]
    codes = np.concatenate([block_codes for _, block_codes in blocks] or [np.zeros(0, int)])
    return images, codes


def make_benchmark_table(
    columns: Mapping[str, list[str]],
    rows: int,
    spec: Mapping[str, Any],
    seed: int,
    image_size: int,
) -> pd.DataFrame:
    """A table of ``rows`` rows with the given columns and a binary ``target``.

    Args:
        columns: Column names by modality, as ``column_names`` makes them.
        rows: Number of rows; each image column holds one PNG per row.
        spec: The demo generator's settings (``conf/base/parameters_demo.yml``).
        seed: Seed: the same seed gives the same table.
        image_size: Width and height of the PNGs.
    """
    rng = np.random.default_rng(seed)
    categories = _category_levels(rng, columns.get("categorical", []), spec["categorical"])
    frame, score = _rows(rng, columns, rows, spec, categories, image_size)
    frame[TARGET] = (score > np.median(score)).astype(np.int64)
    return frame


def _category_levels(
    rng: np.random.Generator, names: list[str], spec: Mapping[str, Any]
) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Per categorical column: its levels' labels, frequencies and effects on the score."""
    levels = int(spec["levels"])
    drawn = {}
    for name in names:
        weights = rng.dirichlet(np.full(levels, float(spec["concentration"])))
        effects = rng.normal(0.0, float(spec["effect"]), size=levels)
        labels = np.asarray([f"{name}_{level}" for level in range(levels)], dtype=object)
        drawn[name] = (labels, weights, effects)
    return drawn


def _rows(
    rng: np.random.Generator,
    columns: Mapping[str, list[str]],
    rows: int,
    spec: Mapping[str, Any],
    categories: Mapping[str, tuple[np.ndarray, np.ndarray, np.ndarray]],
    image_size: int,
) -> tuple[pd.DataFrame, np.ndarray]:
    """``rows`` rows of every column, and their hidden score."""
    table: dict[str, Any] = {}
    score = np.zeros(rows)
    for name, (labels, weights, effects) in categories.items():
        codes = rng.choice(len(labels), size=rows, p=weights)
        values = pd.Series(labels[codes], dtype="string")
        values[rng.random(rows) < float(spec["missing_rate"])] = pd.NA
        table[name], score = values, score + effects[codes]
    for position, name in enumerate(columns.get("numerical", [])):
        z = rng.standard_normal(rows)
        signal = z if position % 2 == 0 else (z**2 - 1.0) / np.sqrt(2.0)
        values = float(spec["numerical"]["location"]) + float(spec["numerical"]["scale"]) * z
        values[rng.random(rows) < float(spec["missing_rate"])] = np.nan
        table[name] = values
        score = score + float(spec["numerical"]["effect"]) * signal
    for name in columns.get("text", []):
        text, contribution = _texts(rng, rows, spec["text"])
        table[name] = pd.Series(pd.arrays.ArrowStringArray(text)).astype("string")
        score = score + contribution
    for name in columns.get("image", []):
        colours = [list(colour) for colour in spec["image"]["colours"]]
        image_seed = int(rng.integers(np.iinfo(np.int32).max))
        images, codes = png_images(rows, image_size, image_seed, colours)
        effects = np.asarray(spec["image"]["colour_effects"], dtype=float)
        table[name] = pd.Series(images, dtype=object)
        score = score + effects[codes]
    score = score + rng.normal(0.0, float(spec["noise"]), size=rows)
    return pd.DataFrame(table), score


def write_benchmark_table(
    path: Path,
    columns: Mapping[str, list[str]],
    rows: int,
    spec: Mapping[str, Any],
    seed: int,
    image_size: int,
    group_rows: int,
) -> int:
    """Write a table like ``make_benchmark_table``'s to Parquet, ``group_rows`` rows at a time.

    Each row group is drawn from its own stream, seeded by ``seed`` and the group's position,
    so the same seed and ``group_rows`` give the same table. The categorical levels'
    frequencies and effects are drawn once for the table; the target is the score above the
    first group's median (about half the rows).

    Returns:
        The number of row groups written.
    """
    categories = _category_levels(
        np.random.default_rng(seed), columns.get("categorical", []), spec["categorical"]
    )
    threshold, schema, groups = None, None, 0
    writer: pq.ParquetWriter | None = None
    try:
        for groups, start in enumerate(range(0, rows, group_rows), start=1):
            rng = np.random.default_rng([seed, groups])
            count = min(group_rows, rows - start)
            frame, score = _rows(rng, columns, count, spec, categories, image_size)
            threshold = np.median(score) if threshold is None else threshold
            frame[TARGET] = (score > threshold).astype(np.int64)
            table = pa.Table.from_pandas(frame, schema=schema, preserve_index=False)
            if writer is None:
                schema = table.schema
                writer = pq.ParquetWriter(path, schema)
            writer.write_table(table, row_group_size=group_rows)
    finally:
        if writer is not None:
            writer.close()
    return groups
