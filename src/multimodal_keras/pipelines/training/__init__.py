"""Model construction and training."""

from multimodal_keras.pipelines.training.pipeline import create_pipeline

__all__ = ["create_pipeline"]
