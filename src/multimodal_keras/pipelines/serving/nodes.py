"""The node that folds the fitted preprocessors and the trained model into one serving model."""

from __future__ import annotations

import logging
from typing import Any

import keras

from multimodal_keras.model.serving import build_serving_model
from multimodal_keras.targets import TargetEncoder

logger = logging.getLogger(__name__)


def export_serving_model(
    trained_model: keras.Model, target_encoder: TargetEncoder, **preprocessors: Any
) -> keras.Model:
    """Wrap the trained model in the fitted preprocessing, rebuilt as Keras layers.

    Args:
        trained_model: The model from ``train_model``.
        target_encoder: The fitted target encoding, to decode the outputs.
        **preprocessors: ``<modality>.preprocessor`` for each modality.

    Returns:
        The serving model, which the catalog exports as a TensorFlow SavedModel.
    """
    serving = build_serving_model(trained_model, target_encoder, preprocessors)
    logger.info(
        "Built the serving model; its inputs are the raw columns %s.",
        {tensor.name: tensor.dtype for tensor in serving.inputs},
    )
    renamed = {
        column: tensor.name for column, tensor in serving.input.items() if column != tensor.name
    }
    if renamed:
        logger.info(
            "serve() takes the columns' own names; the serving_default signature takes %s.",
            renamed,
        )
    return serving
