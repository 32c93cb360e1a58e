"""Wiring of ingest, validation, the split and the target encoding."""

from kedro.pipeline import Pipeline, node

from multimodal_keras.pipelines import per_modality
from multimodal_keras.pipelines.data_processing.nodes import (
    encode_target,
    fit_target,
    split_rows,
    validate_table,
)


def create_pipeline(**kwargs) -> Pipeline:
    """validate_table -> split_rows -> fit_target -> encode_target."""
    modality_params = per_modality("params:{}")
    return Pipeline(
        [
            node(
                validate_table,
                inputs={
                    "raw_table": "raw_table",
                    "table": "params:table",
                    "split": "params:split",
                    "processing": "params:processing",
                    **modality_params,
                },
                outputs=["primary_table", "missing_value_markers"],
                name="validate_table",
            ),
            node(
                split_rows,
                inputs=["primary_table", "params:table", "params:split", "params:seed"],
                outputs="split_assignments",
                name="split_rows",
            ),
            node(
                fit_target,
                inputs=["primary_table", "split_assignments", "params:table"],
                outputs="target_encoder",
                name="fit_target",
            ),
            node(
                encode_target,
                inputs=["target_encoder", "primary_table"],
                outputs="encoded_target",
                name="encode_target",
            ),
        ],
        tags="preprocessing",
    )
