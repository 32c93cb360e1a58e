"""Project pipelines."""

from __future__ import annotations

from kedro.pipeline import Pipeline

from multimodal_keras.pipelines import (
    baseline,
    data_processing,
    evaluation,
    features,
    inference,
    reporting,
    serving,
    training,
    tuning,
)


def register_pipelines() -> dict[str, Pipeline]:
    """Register the project's pipelines.

    Returns:
        A mapping from pipeline names to ``Pipeline`` objects. ``__default__`` trains,
        evaluates the model beside the classical baseline, exports the serving model and
        writes the run report; ``inference`` scores new rows with what the default run saved;
        ``tuning`` searches the model's settings on the features the default run saved.
    """
    training_run = {
        "data_processing": data_processing.create_pipeline(),
        "features": features.create_pipeline(),
        "training": training.create_pipeline(),
        "baseline": baseline.create_pipeline(),
        "evaluation": evaluation.create_pipeline(),
        "serving": serving.create_pipeline(),
        "reporting": reporting.create_pipeline(),
    }
    return {
        **training_run,
        "inference": inference.create_pipeline(),
        "tuning": tuning.create_pipeline(),
        "__default__": sum(training_run.values(), Pipeline([])),
    }
