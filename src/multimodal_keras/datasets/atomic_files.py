"""kedro-datasets' file datasets this project writes, each saved atomically.

The same classes as ``pandas.ParquetDataset``, ``json.JSONDataset`` and
``matplotlib.MatplotlibDataset``, with ``atomic.AtomicSave``: a failed save never leaves
a partial file as the latest version.
"""

from __future__ import annotations

from kedro_datasets.json import JSONDataset as KedroJSONDataset
from kedro_datasets.matplotlib import MatplotlibDataset as KedroMatplotlibDataset
from kedro_datasets.pandas import ParquetDataset as KedroParquetDataset

from multimodal_keras.datasets.atomic import AtomicSave


class ParquetDataset(AtomicSave, KedroParquetDataset):
    """``pandas.ParquetDataset``, saved atomically."""


class JSONDataset(AtomicSave, KedroJSONDataset):
    """``json.JSONDataset``, saved atomically."""


class MatplotlibDataset(AtomicSave, KedroMatplotlibDataset):
    """``matplotlib.MatplotlibDataset``, saved atomically."""
