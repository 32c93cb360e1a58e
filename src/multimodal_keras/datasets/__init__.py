"""Kedro datasets this project needs and kedro-datasets does not have."""

from multimodal_keras.datasets.atomic_files import (
    JSONDataset,
    MatplotlibDataset,
    OptionalParquetDataset,
    ParquetDataset,
    YAMLDataset,
)
from multimodal_keras.datasets.numpy_dataset import NumpyDataset
from multimodal_keras.datasets.serving_model_dataset import ServingModelDataset
from multimodal_keras.datasets.table_dataset import TableDataset
from multimodal_keras.datasets.tensorflow_model_dataset import TensorFlowModelDataset
from multimodal_keras.datasets.trusted_pickle_dataset import TrustedPickleDataset

__all__ = [
    "JSONDataset",
    "MatplotlibDataset",
    "ParquetDataset",
    "NumpyDataset",
    "OptionalParquetDataset",
    "ServingModelDataset",
    "TableDataset",
    "TensorFlowModelDataset",
    "TrustedPickleDataset",
    "YAMLDataset",
]
