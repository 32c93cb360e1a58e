"""Model inputs: the encoded artifacts of every active modality, for a subset of rows."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from multimodal_keras.errors import MultimodalKerasError
from multimodal_keras.modalities import MODALITIES
from multimodal_keras.modalities.base import ROW_ID


def check_aligned(encoded: Mapping[str, Any], row_ids: pd.Series) -> None:
    """Raise when an encoded artifact does not hold the same rows, in the same order."""
    expected = row_ids.to_numpy()
    for name, artifact in encoded.items():
        if len(artifact) != len(expected) or (
            isinstance(artifact, pd.DataFrame)
            and not np.array_equal(artifact[ROW_ID].to_numpy(), expected)
        ):
            raise MultimodalKerasError(
                f"The encoded {name} features do not hold the rows of split_assignments "
                f"({len(artifact)} rows against {len(expected)}); they are out of date: "
                f"rerun the {name} namespace, e.g. `kedro run --namespaces {name}`."
            )


def model_inputs(
    input_names: list[str], encoded: Mapping[str, Any], positions: np.ndarray | None = None
) -> dict[str, np.ndarray]:
    """The arrays the model's named inputs take, for the rows at ``positions`` (all if None)."""
    arrays = {}
    for name in input_names:
        values = MODALITIES[name].model_input(encoded[name])
        arrays[name] = values if positions is None else values[positions]
    return arrays
