"""``TensorFlowModelDataset``: kedro-datasets' Keras model dataset, saved atomically.

kedro-datasets' ``tensorflow.TensorFlowModelDataset`` saves into a temporary folder and
copies the file into the version folder; a copy cut short (a full disk) stays there as the
newest version. This one writes a hidden ``.keras`` file beside the target and renames it
into place (``atomic.staged``), so a failed save leaves the previous version the latest.
"""

from __future__ import annotations

from pathlib import Path

import keras
from kedro.io.core import get_filepath_str
from kedro_datasets.tensorflow import TensorFlowModelDataset as KedroTensorFlowModelDataset

from multimodal_keras.datasets.atomic import staged


class TensorFlowModelDataset(KedroTensorFlowModelDataset):
    """A ``.keras`` file on the local disk; loading is kedro-datasets' own, after the
    project's Keras objects are registered (``multimodal_keras.keras_objects``).

    Example catalog entry::

        trained_model:
          type: multimodal_keras.datasets.TensorFlowModelDataset
          filepath: data/06_models/trained_model.keras
          versioned: true
    """

    def load(self) -> keras.Model:
        # The project's layers must be registered, whichever process loads the model.
        import multimodal_keras.keras_objects  # noqa: F401, PLC0415

        return super().load()

    def save(self, data: keras.Model) -> None:
        path = Path(get_filepath_str(self._get_save_path(), self._protocol))
        with staged(path) as partial:
            keras.models.save_model(data, str(partial), **self._save_args)
        self._invalidate_cache()
