"""One namespaced pipeline per modality: fit on training rows, transform all rows."""

from multimodal_keras.pipelines.features.pipeline import create_pipeline

__all__ = ["create_pipeline"]
