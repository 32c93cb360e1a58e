"""Wiring of the run report."""

from kedro.pipeline import Pipeline, node

from multimodal_keras.pipelines import per_modality
from multimodal_keras.pipelines.reporting.nodes import build_run_report


def create_pipeline(**kwargs) -> Pipeline:
    """build_run_report, from the saved metrics, history, importance, test figures,
    preprocessors and search."""
    return Pipeline(
        [
            node(
                build_run_report,
                inputs={
                    "metrics": "metrics",
                    "training_history": "training_history",
                    "modality_importance": "modality_importance",
                    "split_assignments": "split_assignments",
                    "encoded_target": "encoded_target",
                    "evaluation_figures": "evaluation_figures",
                    "target_encoder": "target_encoder",
                    "parameters": "parameters",
                    "reporting": "params:reporting",
                    "model_lineage": "model_lineage",
                    # The latest search of settings, when there is one (None otherwise).
                    "tuning_trials": "tuning_trials",
                    **per_modality("{}.preprocessor"),
                },
                outputs="run_report",
                name="build_run_report",
            ),
        ],
        tags="reporting",
    )
