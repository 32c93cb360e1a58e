"""The classical baseline: fitted on the training rows, scored on the test rows."""

from multimodal_keras.pipelines.baseline.pipeline import create_pipeline

__all__ = ["create_pipeline"]
