"""Wiring of model construction and training."""

from kedro.pipeline import Pipeline, node

from multimodal_keras.pipelines import per_modality
from multimodal_keras.pipelines.training.nodes import build_model, train_model


def create_pipeline(**kwargs) -> Pipeline:
    """build_model -> train_model."""
    return Pipeline(
        [
            node(
                build_model,
                inputs={
                    "target_encoder": "target_encoder",
                    "split_assignments": "split_assignments",
                    "model": "params:model",
                    "seed": "params:seed",
                    **per_modality("{}.preprocessor"),
                },
                outputs="untrained_model",
                name="build_model",
            ),
            node(
                train_model,
                inputs={
                    "untrained_model": "untrained_model",
                    "target_encoder": "target_encoder",
                    "encoded_target": "encoded_target",
                    "split_assignments": "split_assignments",
                    "training": "params:training",
                    "seed": "params:seed",
                    **per_modality("{}.features"),
                },
                outputs=["trained_model", "training_history", "learning_curves"],
                name="train_model",
            ),
        ],
        tags="training",
    )
