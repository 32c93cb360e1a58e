"""Nodes that build the multi-input model and train it."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import keras
import pandas as pd
from matplotlib.figure import Figure

from multimodal_keras.model import distribute, figures
from multimodal_keras.model.build import assemble_model
from multimodal_keras.model.inputs import check_aligned, row_batches
from multimodal_keras.model.train import (
    batch_size_for,
    best_epoch,
    fit_model,
    input_names,
    monitored,
)
from multimodal_keras.pipelines import check_fitted_on_split
from multimodal_keras.splitting import TRAIN, VALIDATION, split_positions
from multimodal_keras.targets import TargetEncoder

logger = logging.getLogger(__name__)


def build_model(
    target_encoder: TargetEncoder,
    split_assignments: pd.DataFrame,
    model: Mapping[str, Any],
    seed: int,
    **preprocessors: Any,
) -> keras.Model:
    """Build the untrained model: one named input and tower per modality with columns.

    Args:
        target_encoder: The fitted target encoding, for the task's head.
        split_assignments: The split; the preprocessors and the target encoding must have
            been fitted on its training rows.
        model: ``params:model``: tower and fusion sizes.
        seed: ``params:seed``, for the initial weights.
        **preprocessors: ``<modality>.preprocessor`` for each modality, sizing its tower.

    Returns:
        The uncompiled functional model.
    """
    check_fitted_on_split(split_assignments, preprocessors, target_encoder)
    keras.utils.set_random_seed(int(seed))
    built = assemble_model(preprocessors, target_encoder, model)
    logger.info(
        "Built a model with inputs %s and %d parameters.",
        {tensor.name: tuple(tensor.shape[1:]) for tensor in built.inputs},
        built.count_params(),
    )
    return built


def train_model(
    untrained_model: keras.Model,
    target_encoder: TargetEncoder,
    encoded_target: pd.DataFrame,
    split_assignments: pd.DataFrame,
    training: Mapping[str, Any],
    seed: int,
    **features: Any,
) -> tuple[keras.Model, dict[str, list[float]], Figure]:
    """Fit on the training rows, stopping early on the validation rows' monitored metric.

    Args:
        untrained_model: The model from ``build_model``.
        target_encoder: The fitted target encoding.
        encoded_target: Every row's encoded target.
        split_assignments: Which rows train and which validate.
        training: ``params:training``: epochs, batch size, learning rate, patience, class
            weights, and the distribution strategy (see model/distribute/).
        seed: ``params:seed``.
        **features: ``<modality>.features`` for each modality.

    Returns:
        The trained model (best validation weights), its history, and the learning curves.
    """
    check_aligned(features | {"target": encoded_target}, split_assignments["row_id"])
    check_fitted_on_split(split_assignments, {}, target_encoder)
    names = input_names(untrained_model)
    y = encoded_target["target"].to_numpy()
    train_rows = split_positions(split_assignments, TRAIN)
    validation_rows = split_positions(split_assignments, VALIDATION)
    # The strategy, and the model made in its scope; both are as before under `default`.
    strategy = distribute.strategy_for(distribute.Distribution.from_training(training))
    model = distribute.replicate(untrained_model, strategy)
    history = fit_model(
        model,
        target_encoder,
        row_batches(names, features, y, train_rows),
        row_batches(names, features, y, validation_rows),
        training,
        int(seed),
        strategy=strategy,
    )
    monitor, mode = monitored(target_encoder, training)
    kept = best_epoch(history, monitor, mode)
    logger.info(
        "Trained for %d epoch(s) on %d rows in batches of %d over %d replica(s); kept epoch "
        "%d, the best by %s (%.4f).",
        len(history["loss"]),
        len(train_rows),
        batch_size_for(training, len(train_rows)),
        strategy.num_replicas_in_sync,
        kept,
        monitor,
        history[monitor][kept - 1],
    )
    warn_if_best_epoch_early(history, target_encoder, training)
    if distribute.is_distributed(strategy):
        model = distribute.detach(model)
    return model, history, figures.learning_curves(history)


def warn_if_best_epoch_early(
    history: Mapping[str, list[float]], target_encoder: TargetEncoder, training: Mapping[str, Any]
) -> None:
    """Say so when early stopping kept one of the first epochs of a longer training: the
    network fitted the training rows faster than it learnt what holds on new ones."""
    monitor, mode = monitored(target_encoder, training)
    best, epochs = best_epoch(history, monitor, mode), len(history[monitor])
    if best <= int(training.get("early_best_epoch_warning", 0)) < epochs:
        logger.warning(
            "The best validation epoch was %d of %d (%s): the network memorised the training "
            "rows within %s. docs/model.md, 'When the model loses to the baseline', lists "
            "what to try (a lower training.learning_rate; for titles and names, a lower "
            "model.towers.text.table_learning_rate_factor), each with its measured effect.",
            best,
            epochs,
            monitor,
            "one pass" if best == 1 else f"{best} passes",
        )
