"""Export of the serving model: raw columns in, predictions out."""

from multimodal_keras.pipelines.serving.pipeline import create_pipeline

__all__ = ["create_pipeline"]
