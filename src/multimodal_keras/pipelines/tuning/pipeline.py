"""Wiring of the search of the model's settings."""

from kedro.pipeline import Pipeline, node

from multimodal_keras.modalities import MODALITIES
from multimodal_keras.pipelines.tuning.nodes import (
    FEATURES_SUFFIX,
    PREPROCESSOR_SUFFIX,
    draw_tuning_figures,
    search_settings,
)


def create_pipeline(**kwargs) -> Pipeline:
    """search_settings -> draw_tuning_figures, from what the default run saved."""
    return Pipeline(
        [
            node(
                search_settings,
                inputs={
                    "target_encoder": "target_encoder",
                    "encoded_target": "encoded_target",
                    "split_assignments": "split_assignments",
                    "model": "params:model",
                    "training": "params:training",
                    "tuning_settings": "params:tuning",
                    "seed": "params:seed",
                    **{
                        f"{name}{PREPROCESSOR_SUFFIX}": f"{name}.preprocessor"
                        for name in MODALITIES
                    },
                    **{f"{name}{FEATURES_SUFFIX}": f"{name}.features" for name in MODALITIES},
                },
                outputs=["tuning_trials", "tuned_parameters"],
                name="search_settings",
            ),
            node(
                draw_tuning_figures,
                inputs="tuning_trials",
                outputs="tuning_figures",
                name="draw_tuning_figures",
            ),
        ],
        tags="tuning",
    )
