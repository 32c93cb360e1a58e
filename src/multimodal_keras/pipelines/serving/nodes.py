"""The node that folds the fitted preprocessors and the trained model into one serving model."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import keras

from multimodal_keras.missing_values import MarkersAsMissing
from multimodal_keras.model.evaluate import headline
from multimodal_keras.model.serving import build_serving_model
from multimodal_keras.targets import TargetEncoder

logger = logging.getLogger(__name__)


def export_serving_model(
    trained_model: keras.Model,
    target_encoder: TargetEncoder,
    metrics: Mapping[str, Any],
    missing_value_markers: Mapping[str, list[str]],
    **preprocessors: Any,
) -> keras.Model:
    """Wrap the trained model in the fitted preprocessing, rebuilt as Keras layers.

    Args:
        trained_model: The model from ``train_model``.
        target_encoder: The fitted target encoding, to decode the outputs.
        metrics: ``metrics``, the model's test scores: a model is exported once it has been
            scored, so an export that fails never costs a run its metrics.
        missing_value_markers: Per column, the cell values training read as missing values;
            the serving model reads them so too.
        **preprocessors: ``<modality>.preprocessor`` for each modality.

    Returns:
        The serving model, which the catalog exports as a TensorFlow SavedModel.
    """
    serving = build_serving_model(
        trained_model, target_encoder, preprocessors, missing_value_markers
    )
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
    marked = {
        layer.name: layer.markers for layer in serving.layers if isinstance(layer, MarkersAsMissing)
    }
    if marked:
        logger.info("The serving model reads these values as missing values: %s.", marked)
    if renamed:
        logger.info(
            "serve() takes the columns' own names; the serving_default signature takes %s.",
            renamed,
        )
    return serving
