"""Wiring of the evaluation."""

from kedro.pipeline import Pipeline, node

from multimodal_keras.modalities import MODALITIES
from multimodal_keras.pipelines.evaluation.nodes import collect_metrics, evaluate_model


def create_pipeline(**kwargs) -> Pipeline:
    """evaluate_model on the test rows, then collect_metrics beside the baseline's."""
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
                    **{name: f"{name}.features" for name in MODALITIES},
                },
                outputs=["model_metrics", "test_predictions", "evaluation_figures"],
                name="evaluate_model",
            ),
            node(
                collect_metrics,
                inputs=["model_metrics", "baseline_metrics"],
                outputs="metrics",
                name="collect_metrics",
            ),
        ],
        tags="evaluation",
    )
