"""Modality importance: how much a test metric drops when one modality's inputs are shuffled.

Permuting one modality's rows across the test rows keeps its values and their
distribution but breaks their link to the target and to the other modalities. The
drop in the metric, repeated over several permutations, measures how much the model
relies on that modality; a modality the model ignores scores about zero. All columns
of a modality are permuted together, so the measure is per modality, not per column.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial
from typing import Any, Protocol

import numpy as np

# Metrics of ``model.evaluate.score`` where smaller is better; for every other, larger is.
LOWER_IS_BETTER = frozenset({"log_loss", "rmse", "mae"})


def metric_drop(metric: str, intact: float, permuted: float) -> float:
    """How much worse the permuted score is than the intact one; positive means worse."""
    return permuted - intact if metric in LOWER_IS_BETTER else intact - permuted


class PermutableRows(Protocol):
    """Rows of named inputs that can be reordered one input at a time without reading them."""

    @property
    def arrays(self) -> Mapping[str, Any]: ...

    def __len__(self) -> int: ...

    def permuted(self, name: str, permutation: np.ndarray) -> PermutableRows: ...


def with_permuted(
    inputs: Mapping[str, np.ndarray], name: str, permutation: np.ndarray
) -> dict[str, np.ndarray]:
    """The inputs with the rows of input ``name`` reordered by ``permutation``, others intact."""
    return {key: values[permutation] if key == name else values for key, values in inputs.items()}


def permutation_importance(
    predict: Callable[[Any], np.ndarray],
    evaluate: Callable[[np.ndarray], float],
    inputs: Mapping[str, np.ndarray] | PermutableRows,
    metric: str,
    repeats: int,
    rng: np.random.Generator,
    intact: float | None = None,
) -> dict[str, Any]:
    """The drop of ``metric`` when each input's rows are permuted, ``repeats`` times each.

    Args:
        predict: The model's outputs for inputs of the kind given (arrays, or row batches).
        evaluate: The metric's value for a set of outputs of the same rows.
        inputs: One array per modality, all with the same rows in the same order; or
            rows read batch by batch (``model.inputs.RowBatches``), permuted without
            reading them.
        metric: The metric's name, which says whether smaller or larger is better.
        repeats: Permutations per modality; more give a steadier mean.
        rng: The seeded generator the permutations are drawn from.
        intact: The unpermuted score, when the caller has it; otherwise it is predicted.

    Returns:
        ``metric``, ``intact`` (the unpermuted score), ``repeats`` and, per modality,
        ``mean_drop``, ``std_drop`` (sample standard deviation over repeats) and ``drops``.
    """
    if repeats < 1:
        raise ValueError(f"repeats must be at least 1, not {repeats}")
    intact = float(evaluate(predict(inputs)) if intact is None else intact)
    if isinstance(inputs, Mapping):
        names, rows = list(inputs), len(next(iter(inputs.values())))
        permute = partial(with_permuted, inputs)
    else:
        names, rows, permute = list(inputs.arrays), len(inputs), inputs.permuted
    modalities = {}
    for name in names:
        drops = []
        for _ in range(repeats):
            permuted = float(evaluate(predict(permute(name, rng.permutation(rows)))))
            drops.append(metric_drop(metric, intact, permuted))
        modalities[name] = {
            "mean_drop": float(np.mean(drops)),
            "std_drop": float(np.std(drops, ddof=1)) if repeats > 1 else 0.0,
            "drops": drops,
        }
    return {"metric": metric, "intact": intact, "repeats": repeats, "modalities": modalities}
