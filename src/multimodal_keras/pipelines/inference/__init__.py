"""Scoring new rows with the fitted preprocessors and the trained model."""

from multimodal_keras.pipelines.inference.pipeline import create_pipeline

__all__ = ["create_pipeline"]
