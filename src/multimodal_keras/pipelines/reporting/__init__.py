"""The run report, built from what the other pipelines saved."""

from multimodal_keras.pipelines.reporting.pipeline import create_pipeline

__all__ = ["create_pipeline"]
