"""The search of the model's settings with KerasTuner."""

from multimodal_keras.pipelines.tuning.pipeline import create_pipeline

__all__ = ["create_pipeline"]
