"""Nodes that search the model's settings on the training and validation rows."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from multimodal_keras.errors import MultimodalKerasError
from multimodal_keras.modalities import MODALITIES, active
from multimodal_keras.model import distribute, figures, tuning
from multimodal_keras.model.inputs import check_aligned, row_batches
from multimodal_keras.model.train import monitored
from multimodal_keras.pipelines import check_fitted_on_split
from multimodal_keras.search_space import SearchEntry, check_space, nested
from multimodal_keras.splitting import TRAIN, VALIDATION, split_positions
from multimodal_keras.targets import TargetEncoder

logger = logging.getLogger(__name__)

PREPROCESSOR_SUFFIX = "_preprocessor"
FEATURES_SUFFIX = "_features"
TOWERS = "model.towers."


def searched_entries(
    space: Mapping[str, Any],
    model: Mapping[str, Any],
    training: Mapping[str, Any],
    preprocessors: Mapping[str, Any],
) -> dict[str, SearchEntry]:
    """The checked entries of the space, less the towers of modalities without columns."""
    entries = check_space(space, model, training)
    in_use = active(preprocessors)
    idle = [name for name in preprocessors if name not in in_use]
    left_out = [
        path for path in entries if any(path.startswith(f"{TOWERS}{name}.") for name in idle)
    ]
    if left_out:
        logger.info(
            "Not searched, as %s configure no columns: %s.", ", ".join(idle), ", ".join(left_out)
        )
    kept = {path: entry for path, entry in entries.items() if path not in left_out}
    if not kept:
        raise MultimodalKerasError(
            "Every entry of `tuning.space` sets a tower of a modality without columns; add "
            "settings of the active towers, the fusion layers or training to "
            "conf/<env>/parameters_tuning.yml."
        )
    return kept


def search_settings(
    target_encoder: TargetEncoder,
    encoded_target: pd.DataFrame,
    split_assignments: pd.DataFrame,
    model: Mapping[str, Any],
    training: Mapping[str, Any],
    tuning_settings: Mapping[str, Any],
    seed: int,
    **modalities: Any,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Search the model's settings with KerasTuner, scoring each trial on the validation rows.

    Args:
        target_encoder: The fitted target encoding.
        encoded_target: Every row's encoded target.
        split_assignments: Which rows train and which validate; the test rows are not read.
        model: ``params:model``, which each trial's settings change.
        training: ``params:training``, likewise; its strategy is every trial's.
        tuning_settings: ``params:tuning``: the space, the limits, the tuner's directory.
        seed: ``params:seed``: the search's and every trial's.
        **modalities: ``<modality>_preprocessor`` and ``<modality>_features`` per modality.

    Returns:
        Every trial (number, status, settings, score, epochs, seconds), and the best
        trial's settings nested as in ``conf/`` (``tuned_parameters``).
    """
    preprocessors = {name: modalities[f"{name}{PREPROCESSOR_SUFFIX}"] for name in MODALITIES}
    features = {name: modalities[f"{name}{FEATURES_SUFFIX}"] for name in MODALITIES}
    entries = searched_entries(tuning_settings["space"], model, training, preprocessors)
    distribution = distribute.Distribution.from_training(training)
    if distribution.strategy == distribute.MULTI_WORKER:
        raise MultimodalKerasError(
            "The search runs on one machine, but training.distribution.strategy is "
            "multi_worker; search with `--params training.distribution.strategy=mirrored` "
            "(every local device) or default."
        )
    monitored(target_encoder, training)  # a monitor the task does not report stops here
    check_aligned(features | {"target": encoded_target}, split_assignments["row_id"])
    check_fitted_on_split(split_assignments, preprocessors, target_encoder)
    names = list(active(preprocessors))
    y = encoded_target["target"].to_numpy()
    data = tuning.TrialData(
        preprocessors,
        target_encoder,
        row_batches(names, features, y, split_positions(split_assignments, TRAIN)),
        row_batches(names, features, y, split_positions(split_assignments, VALIDATION)),
    )
    result = tuning.search(
        entries,
        data,
        tuning.FixedSettings(model, training, int(seed)),
        tuning_settings,
        distribute.strategy_for(distribution),
    )
    return result.trials, nested(result.best)


def draw_tuning_figures(tuning_trials: pd.DataFrame) -> dict[str, Figure]:
    """The score of every trial in order, and each searched setting's effect on it.

    Args:
        tuning_trials: From ``search_settings``.

    Returns:
        ``scores.png`` and ``settings.png``.
    """
    return {
        "scores.png": figures.tuning_scores(tuning_trials),
        "settings.png": figures.tuning_settings(tuning_trials),
    }
