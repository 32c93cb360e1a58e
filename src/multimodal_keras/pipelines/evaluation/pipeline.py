"""Wiring of the evaluation."""

from kedro.pipeline import Pipeline, node

from multimodal_keras.pipelines import per_modality
from multimodal_keras.pipelines.evaluation.nodes import (
    collect_metrics,
    evaluate_model,
    measure_modality_importance,
)


def create_pipeline(**kwargs) -> Pipeline:
    """evaluate_model and measure_modality_importance on the test rows; collect_metrics."""
    return Pipeline(
        [
            node(
                evaluate_model,
                inputs={
                    "trained_model": "trained_model",
                    "target_encoder": "target_encoder",
                    "encoded_target": "encoded_target",
                    "split_assignments": "split_assignments",
                    "evaluation": "params:evaluation",
                    **per_modality("{}.features"),
                },
                outputs=["model_metrics", "test_predictions", "evaluation_figures"],
                name="evaluate_model",
            ),
            node(
                collect_metrics,
                inputs=["model_metrics", "baseline_metrics", "parameters"],
                outputs="metrics",
                name="collect_metrics",
            ),
            node(
                measure_modality_importance,
                inputs={
                    "trained_model": "trained_model",
                    "target_encoder": "target_encoder",
                    "encoded_target": "encoded_target",
                    "split_assignments": "split_assignments",
                    "importance": "params:modality_importance",
                    "seed": "params:seed",
                    **per_modality("{}.features"),
                },
                outputs=["modality_importance", "modality_importance_chart"],
                name="measure_modality_importance",
            ),
        ],
        tags="evaluation",
    )
