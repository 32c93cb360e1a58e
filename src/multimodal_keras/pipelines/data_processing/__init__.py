"""Ingest and validation, the aligned split, and the target encoding."""

from multimodal_keras.pipelines.data_processing.pipeline import create_pipeline

__all__ = ["create_pipeline"]
