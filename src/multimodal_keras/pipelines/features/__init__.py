"""One namespaced pipeline per modality: fit its preprocessor on training rows, transform all rows."""

from multimodal_keras.pipelines.features.pipeline import create_pipeline

__all__ = ["create_pipeline"]
