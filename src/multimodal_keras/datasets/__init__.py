"""Kedro datasets this project needs and kedro-datasets does not have."""

from multimodal_keras.datasets.numpy_dataset import NumpyDataset
from multimodal_keras.datasets.serving_model_dataset import ServingModelDataset

__all__ = ["NumpyDataset", "ServingModelDataset"]
