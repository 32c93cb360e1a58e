"""Synthetic tables with a known signal in every modality, for the demo, tests and benchmarks.

The columns come from the configuration, so any schema can be generated: each
modality's module makes its columns (``synthetic_column``: a categorical level, a
numerical column, a text's sentiment, an image's colour) and each adds a term to a
hidden score, and the target is read off that score. No single modality carries enough
of the score to predict the target alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from multimodal_keras.modalities import MODALITIES
from multimodal_keras.targets import BINARY, MULTICLASS


def reads_other_columns(modality: str) -> bool:
    """Whether a modality reads columns another modality makes (the neighbours): it makes
    none of its own."""
    return bool(getattr(MODALITIES[modality], "READS_OTHER_COLUMNS", False))


def make_table(
    columns: Mapping[str, list[str]],
    target: str,
    rows: int,
    spec: Mapping[str, Any],
    seed: int,
) -> pd.DataFrame:
    """A table with the given columns per modality and a target that depends on all of them.

    Args:
        columns: Column names by modality name.
        target: Name of the target column.
        rows: Number of rows.
        spec: Generator settings per modality, the noise, missing rate and the task.
        seed: Seed of the generator: the same seed gives the same table.
    """
    rng = np.random.default_rng(seed)
    table, score = {}, np.zeros(rows)
    for modality, names in columns.items():
        if reads_other_columns(modality):
            continue
        for position, name in enumerate(names):
            values, contribution = MODALITIES[modality].synthetic_column(
                rng, name, position, rows, spec[modality]
            )
            table[name], score = values, score + contribution
    score = score + rng.normal(0.0, float(spec["noise"]), size=rows)
    frame = pd.DataFrame(table)
    missing_rate = float(spec["missing_rate"])
    # Registry order, whatever the order of ``columns``: the same seed gives the same gaps.
    for modality, module in MODALITIES.items():
        for name in [] if reads_other_columns(modality) else columns.get(modality, []):
            frame[name] = module.synthetic_gaps(rng, frame[name], missing_rate)
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

    Each modality's module makes its columns harder (``synthetic_new_rows``: some categorical
    cells hold a category no table has, ``unseen_category``; some numerical cells are missing
    and some text cells are missing or empty, ``missing_rate``), an extra column the model
    does not read is added, and the columns come in reverse order.

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
    for modality, module in MODALITIES.items():
        for name in [] if reads_other_columns(modality) else columns.get(modality, []):
            frame[name] = module.synthetic_new_rows(rng, frame[name], new_rows)
    extra = str(new_rows["extra_column"])
    frame[extra] = [f"{extra} {index}" for index in range(rows)]
    return frame[frame.columns[::-1]]
