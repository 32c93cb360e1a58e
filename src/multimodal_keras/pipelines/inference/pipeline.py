"""Wiring of scoring: validate new rows, encode them per modality, predict."""

from kedro.pipeline import Pipeline, node

from multimodal_keras.modalities import MODALITIES
from multimodal_keras.pipelines import per_modality
from multimodal_keras.pipelines.features.nodes import transform_for
from multimodal_keras.pipelines.inference.nodes import predict, validate_inference_table


def create_modality_pipeline(modality: str) -> Pipeline:
    """``<modality>.transform_new_rows``: the training ``transform`` node, on the rows to score.

    Reads the fitted ``<modality>.preprocessor`` and the rows chunk by chunk; writes
    ``<modality>.inference_features``, every row's model inputs, chunk by chunk.
    """
    template = Pipeline(
        [
            node(
                transform_for(modality),
                inputs=["preprocessor", "inference_rows", "params:processing"],
                outputs="inference_features",
                name="transform_new_rows",
            )
        ]
    )
    return Pipeline(
        template,
        namespace=modality,
        inputs={"inference_rows"},
        parameters={"params:processing": "params:processing"},
    )


def create_pipeline(**kwargs) -> Pipeline:
    """validate_inference_table -> <modality>.transform_new_rows -> predict."""
    return Pipeline(
        [
            node(
                validate_inference_table,
                inputs={
                    "inference_table": "inference_table",
                    "table": "params:table",
                    "missing_value_markers": "missing_value_markers",
                    **per_modality("params:{}"),
                },
                outputs="inference_rows",
                name="validate_inference_table",
            ),
            *(create_modality_pipeline(name) for name in MODALITIES),
            node(
                predict,
                inputs={
                    "trained_model": "trained_model",
                    "target_encoder": "target_encoder",
                    "inference_rows": "inference_rows",
                    "inference": "params:inference",
                    "processing": "params:processing",
                    **per_modality("{}.inference_features"),
                },
                outputs="predictions",
                name="predict",
            ),
        ],
        tags="inference",
    )
