"""Synthetic tables with a known signal in every modality, for the demo, tests and benchmarks.

The columns come from the configuration, so any schema can be generated: each
categorical level, numerical column, text sentiment and image colour adds a term
to a hidden score, and the target is read off that score. No single modality
carries enough of the score to predict the target alone.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from PIL import Image, ImageDraw

from multimodal_keras.targets import BINARY, MULTICLASS


def _categorical(rng: np.random.Generator, column: str, rows: int, spec: Mapping[str, Any]):
    levels = [f"{column}_{index}" for index in range(int(spec["levels"]))]
    weights = rng.dirichlet(np.full(len(levels), float(spec["concentration"])))
    codes = rng.choice(len(levels), size=rows, p=weights)
    effects = rng.normal(0.0, float(spec["effect"]), size=len(levels))
    values = pd.Series(np.asarray(levels, dtype=object)[codes], dtype="string")
    return values, effects[codes]


def _numerical(rng: np.random.Generator, rows: int, spec: Mapping[str, Any], position: int):
    z = rng.standard_normal(rows)
    # Alternate linear and U-shaped effects so that a tower has something to learn.
    signal = z if position % 2 == 0 else (z**2 - 1.0) / np.sqrt(2.0)
    values = float(spec["location"]) + float(spec["scale"]) * z
    return values, float(spec["effect"]) * signal


def _text(rng: np.random.Generator, rows: int, spec: Mapping[str, Any]):
    positive, negative = list(spec["positive_words"]), list(spec["negative_words"])
    filler = list(spec["filler_words"])
    sentiment = rng.integers(-1, 2, size=rows)
    texts = []
    for mood in sentiment:
        words = list(rng.choice(filler, size=rng.integers(*spec["filler_count"])))
        if mood:
            pool = positive if mood > 0 else negative
            words += list(rng.choice(pool, size=rng.integers(*spec["sentiment_count"])))
        rng.shuffle(words)
        texts.append(" ".join(words).capitalize() + ".")
    return pd.Series(texts, dtype="string"), float(spec["effect"]) * sentiment


def _png(rng: np.random.Generator, size: int, colour: tuple[int, ...], spec) -> bytes:
    background = int(rng.integers(*spec["background_range"]))
    image = Image.new("RGB", (size, size), (background,) * 3)
    extent = int(rng.integers(size // 3, size // 2 + 1))
    left, top = (int(v) for v in rng.integers(0, size - extent, size=2))
    shape = ImageDraw.Draw(image).ellipse if rng.random() < 0.5 else ImageDraw.Draw(image).rectangle
    shape((left, top, left + extent, top + extent), fill=colour)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def _image(rng: np.random.Generator, rows: int, spec: Mapping[str, Any]):
    colours = [tuple(int(c) for c in colour) for colour in spec["colours"]]
    effects = np.asarray(spec["colour_effects"], dtype=float)
    codes = rng.integers(0, len(colours), size=rows)
    images = [_png(rng, int(spec["size"]), colours[code], spec) for code in codes]
    return pd.Series(images, dtype=object), effects[codes]


def make_table(
    columns: Mapping[str, list[str]],
    target: str,
    rows: int,
    spec: Mapping[str, Any],
    seed: int,
) -> pd.DataFrame:
    """A table with the given columns per modality and a target that depends on all of them.

    Args:
        columns: Column names by modality (``categorical``, ``numerical``, ``text``, ``image``).
        target: Name of the target column.
        rows: Number of rows.
        spec: Generator settings per modality, the noise, missing rate and the task.
        seed: Seed of the generator: the same seed gives the same table.
    """
    rng = np.random.default_rng(seed)
    table, score = {}, np.zeros(rows)
    generators = {
        "categorical": lambda name, _: _categorical(rng, name, rows, spec["categorical"]),
        "numerical": lambda _, position: _numerical(rng, rows, spec["numerical"], position),
        "text": lambda *_: _text(rng, rows, spec["text"]),
        "image": lambda *_: _image(rng, rows, spec["image"]),
    }
    for modality, names in columns.items():
        for position, name in enumerate(names):
            values, contribution = generators[modality](name, position)
            table[name], score = values, score + contribution
    score = score + rng.normal(0.0, float(spec["noise"]), size=rows)
    frame = pd.DataFrame(table)
    missing_rate = float(spec["missing_rate"])
    for name in [*columns.get("categorical", []), *columns.get("numerical", [])]:
        frame.loc[rng.random(rows) < missing_rate, name] = None
    task = spec.get("task", BINARY)
    if task == BINARY:
        frame[target] = (score > np.median(score)).astype(np.int64)
    elif task == MULTICLASS:
        edges = np.quantile(score, np.linspace(0, 1, int(spec["classes"]) + 1)[1:-1])
        frame[target] = pd.Series(np.digitize(score, edges)).map(lambda k: f"class_{k}")
    else:
        frame[target] = score
    return frame


def make_new_rows(
    columns: Mapping[str, list[str]],
    target: str,
    spec: Mapping[str, Any],
    new_rows: Mapping[str, Any],
) -> pd.DataFrame:
    """Rows to score, as ``make_table`` makes them but without the target, and harder.

    Some categorical cells hold a category no table has (``unseen_category``), some
    numerical cells are missing and some text cells are missing or empty (``missing_rate``),
    an extra column the model does not read is added, and the columns come in reverse order.

    Args:
        columns: Column names by modality, as for ``make_table``.
        target: Name of the target column, left out.
        spec: ``make_table``'s generator settings.
        new_rows: ``rows``, ``seed``, ``unseen_rate``, ``unseen_category``, ``missing_rate``
            and ``extra_column``.
    """
    rows, seed = int(new_rows["rows"]), int(new_rows["seed"])
    frame = make_table(columns, target, rows, spec, seed).drop(columns=[target])
    rng = np.random.default_rng(seed)
    for name in columns.get("categorical", []):
        frame.loc[rng.random(rows) < float(new_rows["unseen_rate"]), name] = new_rows[
            "unseen_category"
        ]
    missing_rate = float(new_rows["missing_rate"])
    for name in columns.get("numerical", []):
        frame.loc[rng.random(rows) < missing_rate, name] = np.nan
    for name in columns.get("text", []):
        emptied = np.flatnonzero(rng.random(rows) < missing_rate)
        frame.loc[emptied[::2], name] = None
        frame.loc[emptied[1::2], name] = ""
    extra = str(new_rows["extra_column"])
    frame[extra] = [f"{extra} {index}" for index in range(rows)]
    return frame[frame.columns[::-1]]
