"""The one train/validation/test split that every modality and the target share.

Before splitting, the sizes each split would get are worked out the way scikit-learn
works them out, so that a table too small for the configured fractions stops with one
sentence naming the split or class at fault and the minimum the table needs.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from math import ceil
from typing import Any

import numpy as np
import pandas as pd
from sklearn.model_selection import GroupShuffleSplit, train_test_split

from multimodal_keras.errors import MultimodalKerasError

ROW_ID = "row_id"  # the column that names each row, in every table and artifact
TRAIN, VALIDATION, TEST = "train", "val", "test"
SPLITS = (TRAIN, VALIDATION, TEST)
SPLIT_WORDS = {TRAIN: "train", VALIDATION: "validation", TEST: "test"}
# A stratified split puts every class in each of train, validation and test.
MIN_ROWS_PER_CLASS = len(SPLITS)
# Search bound for the minimum table size; fractions this extreme are refused earlier.
_MAX_SEARCHED_ROWS = 1_000_000


def check_fractions(test_fraction: float, validation_fraction: float) -> None:
    """Raise when the fractions cannot leave rows for all three splits."""
    for name, value in (
        ("split.test_fraction", test_fraction),
        ("split.validation_fraction", validation_fraction),
    ):
        if not 0.0 < value < 1.0:
            raise MultimodalKerasError(
                f"{name} is {value}, but it must lie strictly between 0 and 1 so that its "
                "split gets rows; set it to a fraction such as 0.15."
            )
    if test_fraction + validation_fraction >= 1.0:
        raise MultimodalKerasError(
            f"split.test_fraction ({test_fraction}) and split.validation_fraction "
            f"({validation_fraction}) add up to 1 or more, which leaves no training rows; "
            "lower them so that their sum is below 1."
        )


def split_sizes(rows: int, test_fraction: float, validation_fraction: float) -> dict[str, int]:
    """How many of ``rows`` rows (or groups) each split gets, as scikit-learn rounds them."""
    test = ceil(test_fraction * rows)
    rest = rows - test
    validation = ceil(validation_fraction / (1.0 - test_fraction) * rest)
    return {TRAIN: rest - validation, VALIDATION: validation, TEST: test}


def minimum_rows(test_fraction: float, validation_fraction: float, per_split: int = 1) -> int:
    """The fewest rows for which every split gets at least ``per_split`` rows."""
    rows = MIN_ROWS_PER_CLASS * per_split
    while rows < _MAX_SEARCHED_ROWS:
        if min(split_sizes(rows, test_fraction, validation_fraction).values()) >= per_split:
            return rows
        rows += 1
    return rows


def _rows(count: int) -> str:
    return f"{count} row{'' if count == 1 else 's'}"


def _check_class_counts(labels: np.ndarray, target_name: str) -> None:
    """Raise naming the classes with too few rows to appear in every split."""
    counts = Counter(labels.tolist())
    rare = sorted(
        ((label, count) for label, count in counts.items() if count < MIN_ROWS_PER_CLASS),
        key=lambda item: (item[1], str(item[0])),
    )
    if not rare:
        return
    if len(rare) == 1:
        label, count = rare[0]
        problem = f"class {label!r} has only {_rows(count)}"
    else:
        shown = ", ".join(f"{label!r} ({_rows(count)})" for label, count in rare[:5])
        more = f" and {len(rare) - 5} more" if len(rare) > 5 else ""
        problem = f"classes {shown}{more} have too few rows"
    raise MultimodalKerasError(
        f"In target column {target_name!r}, {problem}, but a stratified split needs at "
        f"least {MIN_ROWS_PER_CLASS} rows of every class (one each for train, validation "
        "and test); add rows of such classes, remove them, or set split.stratify to false."
    )


def _check_sizes(
    units: int, test_fraction: float, validation_fraction: float, per_split: int, what: str
) -> None:
    """Raise when a split would get fewer than ``per_split`` of the ``units`` rows or groups."""
    sizes = split_sizes(units, test_fraction, validation_fraction)
    short = [name for name in SPLITS if sizes[name] < per_split]
    if not short:
        return
    name = SPLIT_WORDS[short[0]]
    needed = minimum_rows(test_fraction, validation_fraction, per_split)
    if per_split == 1:
        problem = f"the {name} split would be empty"
        need = f"at least {needed} {what}"
    else:
        problem = (
            f"the {name} split would get {sizes[short[0]]} of them, fewer than the {per_split} "
            "classes a stratified split must be able to place in every split"
        )
        need = f"at least {needed} {what} for {per_split} classes"
    raise MultimodalKerasError(
        f"With {units} {what}, split.test_fraction {test_fraction} and "
        f"split.validation_fraction {validation_fraction}, {problem}; these fractions need "
        f"{need}, so add rows or change the fractions"
        + (", or set split.stratify to false." if per_split > 1 else ".")
    )


def _two_way(
    positions: np.ndarray,
    fraction: float,
    seed: int,
    labels: np.ndarray | None,
    groups: np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray]:
    """Split positions into (kept, held out), the held-out part about ``fraction`` of them."""
    if groups is not None:
        splitter = GroupShuffleSplit(n_splits=1, test_size=fraction, random_state=seed)
        kept, held = next(splitter.split(positions, groups=groups[positions]))
        return positions[kept], positions[held]
    stratify = labels[positions] if labels is not None else None
    try:
        return train_test_split(positions, test_size=fraction, random_state=seed, stratify=stratify)
    except ValueError as error:
        raise MultimodalKerasError(
            f"Cannot split {len(positions)} rows with a held-out fraction of {fraction} "
            f"({error}); add rows, lower split.test_fraction or split.validation_fraction, "
            "or set split.stratify to false."
        ) from error


def assign_splits(
    row_ids: pd.Series,
    test_fraction: float,
    validation_fraction: float,
    seed: int,
    labels: pd.Series | None = None,
    groups: pd.Series | None = None,
) -> pd.DataFrame:
    """Assign each row to train, val or test, seeded, stratified by label or kept whole by group.

    ``validation_fraction`` is a fraction of all rows, like ``test_fraction``. Labels are
    ignored when groups are given: whole groups cannot be stratified by class.
    """
    check_fractions(test_fraction, validation_fraction)
    label_values = None if labels is None else labels.astype("string").to_numpy(dtype=object)
    group_values = None if groups is None else groups.astype("string").to_numpy(dtype=object)
    if group_values is not None:
        label_values = None
        _check_sizes(
            len(set(group_values.tolist())), test_fraction, validation_fraction, 1, "groups"
        )
    elif label_values is not None:
        _check_class_counts(label_values, str(labels.name))
        classes = len(set(label_values.tolist()))
        _check_sizes(len(row_ids), test_fraction, validation_fraction, classes, "rows")
    else:
        _check_sizes(len(row_ids), test_fraction, validation_fraction, 1, "rows")
    positions = np.arange(len(row_ids))
    rest, test = _two_way(positions, test_fraction, seed, label_values, group_values)
    train, validation = _two_way(
        rest, validation_fraction / (1.0 - test_fraction), seed, label_values, group_values
    )
    split = np.empty(len(row_ids), dtype=object)
    split[train], split[validation], split[test] = TRAIN, VALIDATION, TEST
    assignments = pd.DataFrame({ROW_ID: row_ids.to_numpy(), "split": split})
    for name in SPLITS:
        if not (assignments["split"] == name).any():
            raise MultimodalKerasError(
                f"The {name} split is empty for {len(row_ids)} rows; add rows or raise "
                "split.test_fraction and split.validation_fraction."
            )
    return assignments


def split_positions(assignments: pd.DataFrame, name: str) -> np.ndarray:
    """Positions, in primary-table order, of the rows assigned to one split."""
    # Compared as a column: a string column's to_numpy() would make one object per row.
    return np.flatnonzero((assignments["split"] == name).to_numpy(bool, na_value=False))


def training_rows_digest(assignments: pd.DataFrame) -> str:
    """SHA-256 of the training rows' ids, in order: which rows a fitted artifact learnt from."""
    ids = assignments[ROW_ID].iloc[split_positions(assignments, TRAIN)]
    return hashlib.sha256(ids.astype("string").str.cat(sep="\n").encode()).hexdigest()


@dataclass
class FittedOnTrainingRows:
    """What a preprocessor or the target encoder records of the rows it was fitted on.

    Empty in artifacts fitted before the digest was recorded: those are not checked.
    """

    training_rows_digest: str = field(default="", kw_only=True)


def check_fitted_on(assignments: pd.DataFrame, fitted: Mapping[str, Any]) -> None:
    """Stop when a fitted artifact learnt from other training rows than ``assignments`` holds.

    ``fitted`` maps each artifact's catalog name (``categorical.preprocessor``) to it.
    The split changes when ``split_rows`` is rerun alone (another seed, other fractions);
    an artifact fitted before it would carry statistics of rows that are now validation or
    test rows into the model, a leak no metric shows.
    """
    digest = training_rows_digest(assignments)
    stale = [
        name
        for name, artifact in fitted.items()
        if getattr(artifact, "training_rows_digest", "") not in ("", digest)
    ]
    if stale:
        quoted = [f"`{name}`" for name in stale]
        names = quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} and {quoted[-1]}"
        raise MultimodalKerasError(
            f"{names} {'was' if len(stale) == 1 else 'were'} fitted on "
            "other training rows than `split_assignments` now holds: the split was made again "
            "after the fit, so rows that are now validation or test rows shaped "
            f"{'it' if len(stale) == 1 else 'them'}. Refit from the split: "
            "`kedro run --from-nodes split_rows` (or `kedro run`)."
        )
