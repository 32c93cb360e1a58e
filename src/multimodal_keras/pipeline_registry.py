"""Project pipelines."""

from __future__ import annotations

from kedro.pipeline import Pipeline

from multimodal_keras.pipelines import baseline, data_processing, evaluation, features, training


def register_pipelines() -> dict[str, Pipeline]:
    """Register the project's pipelines.

    Returns:
        A mapping from pipeline names to ``Pipeline`` objects; ``__default__`` trains and
        evaluates the model and the classical baseline.
    """
    pipelines = {
        "data_processing": data_processing.create_pipeline(),
        "features": features.create_pipeline(),
        "training": training.create_pipeline(),
        "baseline": baseline.create_pipeline(),
        "evaluation": evaluation.create_pipeline(),
    }
    pipelines["__default__"] = sum(pipelines.values(), Pipeline([]))
    return pipelines
