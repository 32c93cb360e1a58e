"""kedro-datasets' file datasets this project writes, each saved atomically.

The same classes as ``pandas.ParquetDataset``, ``json.JSONDataset``,
``matplotlib.MatplotlibDataset`` and ``yaml.YAMLDataset``, with ``atomic.AtomicSave``: a
failed save never leaves a partial file as the latest version. ``OptionalParquetDataset``
is the Parquet one for an input a node can do without.
"""

from __future__ import annotations

from typing import Any

from kedro_datasets.json import JSONDataset as KedroJSONDataset
from kedro_datasets.matplotlib import MatplotlibDataset as KedroMatplotlibDataset
from kedro_datasets.pandas import ParquetDataset as KedroParquetDataset
from kedro_datasets.yaml import YAMLDataset as KedroYAMLDataset

from multimodal_keras.datasets.atomic import AtomicSave


class ParquetDataset(AtomicSave, KedroParquetDataset):
    """``pandas.ParquetDataset``, saved atomically."""


class JSONDataset(AtomicSave, KedroJSONDataset):
    """``json.JSONDataset``, saved atomically."""


class MatplotlibDataset(AtomicSave, KedroMatplotlibDataset):
    """``matplotlib.MatplotlibDataset``, saved atomically."""


class YAMLDataset(AtomicSave, KedroYAMLDataset):
    """``yaml.YAMLDataset``, saved atomically."""


class OptionalParquetDataset(ParquetDataset):
    """``ParquetDataset`` that loads None while nothing has been saved.

    For an artifact that one pipeline writes and another reads only when it is there (the
    run report shows the latest search's trials when ``kedro run --pipelines tuning`` has
    written them): it always loads, so it always exists as an input. Kedro has no optional
    node input, hence this class.
    """

    def load(self) -> Any:
        if not super().exists():
            return None
        return super().load()

    def exists(self) -> bool:
        return True
