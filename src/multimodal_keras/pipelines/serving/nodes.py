"""The node that folds the fitted preprocessors and the trained model into one serving model."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import keras

from multimodal_keras.model.evaluate import headline
from multimodal_keras.model.serving import build_serving_model
from multimodal_keras.targets import TargetEncoder

logger = logging.getLogger(__name__)


def export_serving_model(
    trained_model: keras.Model,
    target_encoder: TargetEncoder,
    metrics: Mapping[str, Any],
    **preprocessors: Any,
) -> keras.Model:
    """Wrap the trained model in the fitted preprocessing, rebuilt as Keras layers.

    Args:
        trained_model: The model from ``train_model``.
        target_encoder: The fitted target encoding, to decode the outputs.
        metrics: ``metrics``, the model's test scores: a model is exported once it has been
            scored, so an export that fails never costs a run its metrics.
        **preprocessors: ``<modality>.preprocessor`` for each modality.

    Returns:
        The serving model, which the catalog exports as a TensorFlow SavedModel.
    """
    serving = build_serving_model(trained_model, target_encoder, preprocessors)
    logger.info(
        "Built the serving model of the model scoring %s on %s test rows; its inputs are the "
        "raw columns %s.",
        headline(metrics.get("model", {})),
        metrics.get("test_rows"),
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
