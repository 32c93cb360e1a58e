"""The one train/validation/test split that every modality and the target share."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.model_selection import GroupShuffleSplit, train_test_split

from multimodal_keras.errors import MultimodalKerasError

TRAIN, VALIDATION, TEST = "train", "val", "test"
SPLITS = (TRAIN, VALIDATION, TEST)


def _two_way(
    positions: np.ndarray,
    fraction: float,
    seed: int,
    labels: np.ndarray | None,
    groups: np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray]:
    """Split positions into (kept, held out), the held-out part about ``fraction`` of them."""
    try:
        if groups is not None:
            splitter = GroupShuffleSplit(n_splits=1, test_size=fraction, random_state=seed)
            kept, held = next(splitter.split(positions, groups=groups[positions]))
            return positions[kept], positions[held]
        stratify = labels[positions] if labels is not None else None
        return train_test_split(
            positions, test_size=fraction, random_state=seed, stratify=stratify
        )
    except ValueError as error:
        raise MultimodalKerasError(
            f"Cannot split {len(positions)} rows with a held-out fraction of {fraction} "
            f"({error}); add rows (or groups, with split.group_column), lower "
            "split.test_fraction or split.validation_fraction, or set split.stratify to false."
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

    ``validation_fraction`` is a fraction of all rows, like ``test_fraction``.
    """
    label_values = None if labels is None else labels.astype("string").to_numpy(dtype=object)
    group_values = None if groups is None else groups.astype("string").to_numpy(dtype=object)
    if group_values is not None and len(set(group_values)) < len(SPLITS):
        raise MultimodalKerasError(
            f"The group column holds {len(set(group_values))} group(s), but each of the "
            f"{len(SPLITS)} splits takes whole groups, so at least {len(SPLITS)} are needed; "
            "add groups or unset split.group_column."
        )
    positions = np.arange(len(row_ids))
    rest, test = _two_way(positions, test_fraction, seed, label_values, group_values)
    train, validation = _two_way(
        rest, validation_fraction / (1.0 - test_fraction), seed, label_values, group_values
    )
    split = np.empty(len(row_ids), dtype=object)
    split[train], split[validation], split[test] = TRAIN, VALIDATION, TEST
    assignments = pd.DataFrame({"row_id": row_ids.to_numpy(), "split": split})
    for name in SPLITS:
        if not (assignments["split"] == name).any():
            raise MultimodalKerasError(
                f"The {name} split is empty for {len(row_ids)} rows; add rows or raise "
                "split.test_fraction and split.validation_fraction."
            )
    return assignments


def split_positions(assignments: pd.DataFrame, name: str) -> np.ndarray:
    """Positions, in primary-table order, of the rows assigned to one split."""
    return np.flatnonzero(assignments["split"].to_numpy() == name)
