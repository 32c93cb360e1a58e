"""Kedro datasets this project needs and kedro-datasets does not have."""

from multimodal_keras.datasets.numpy_dataset import NumpyDataset

__all__ = ["NumpyDataset"]
