"""Project pipelines."""

from __future__ import annotations

from kedro.pipeline import Pipeline

from multimodal_keras.pipelines import data_processing, evaluation, features, reporting, training


def register_pipelines() -> dict[str, Pipeline]:
    """Register the project's pipelines.

    Returns:
        A mapping from pipeline names to ``Pipeline`` objects; ``__default__`` trains,
        evaluates and reports.
    """
    pipelines = {
        "data_processing": data_processing.create_pipeline(),
        "features": features.create_pipeline(),
        "training": training.create_pipeline(),
        "evaluation": evaluation.create_pipeline(),
        "reporting": reporting.create_pipeline(),
    }
    pipelines["__default__"] = sum(pipelines.values(), Pipeline([]))
    return pipelines
