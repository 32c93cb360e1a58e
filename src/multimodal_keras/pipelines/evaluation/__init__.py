"""Evaluation of the trained model on the test rows."""

from multimodal_keras.pipelines.evaluation.pipeline import create_pipeline

__all__ = ["create_pipeline"]
