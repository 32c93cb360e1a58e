"""Wiring of the classical baseline."""

from kedro.pipeline import Pipeline, node

from multimodal_keras.modalities import MODALITIES
from multimodal_keras.pipelines import per_modality
from multimodal_keras.pipelines.baseline.nodes import (
    FEATURES_SUFFIX,
    PREPROCESSOR_SUFFIX,
    evaluate_baseline,
    fit_baseline,
)


def create_pipeline(**kwargs) -> Pipeline:
    """fit_baseline -> evaluate_baseline."""
    return Pipeline(
        [
            node(
                fit_baseline,
                inputs={
                    "primary_table": "primary_table",
                    "split_assignments": "split_assignments",
                    "encoded_target": "encoded_target",
                    "target_encoder": "target_encoder",
                    "baseline": "params:baseline",
                    "processing": "params:processing",
                    "seed": "params:seed",
                    **{
                        f"{name}{PREPROCESSOR_SUFFIX}": f"{name}.preprocessor"
                        for name in MODALITIES
                    },
                    **{f"{name}{FEATURES_SUFFIX}": f"{name}.features" for name in MODALITIES},
                },
                outputs="baseline_model",
                name="fit_baseline",
            ),
            node(
                evaluate_baseline,
                inputs={
                    "baseline_model": "baseline_model",
                    "target_encoder": "target_encoder",
                    "encoded_target": "encoded_target",
                    "split_assignments": "split_assignments",
                    "primary_table": "primary_table",
                    "processing": "params:processing",
                    **per_modality("{}.features"),
                },
                outputs="baseline_metrics",
                name="evaluate_baseline",
            ),
        ],
        tags=["evaluation", "baseline"],
    )
