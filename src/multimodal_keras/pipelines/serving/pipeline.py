"""Wiring of the serving export, run at the end of training."""

from kedro.pipeline import Pipeline, node

from multimodal_keras.pipelines import per_modality
from multimodal_keras.pipelines.serving.nodes import export_serving_model


def create_pipeline(**kwargs) -> Pipeline:
    """export_serving_model, from the trained model and the fitted preprocessors, once the
    model's test metrics are written."""
    return Pipeline(
        [
            node(
                export_serving_model,
                inputs={
                    "trained_model": "trained_model",
                    "target_encoder": "target_encoder",
                    "metrics": "metrics",
                    "missing_value_markers": "missing_value_markers",
                    **per_modality("{}.preprocessor"),
                },
                outputs="serving_model",
                name="export_serving_model",
            )
        ],
        tags="serving",
    )
