"""``ServingModelDataset``: a Keras model exported as a TensorFlow SavedModel folder.

kedro-datasets' TensorFlow dataset saves ``.keras`` files, which need Keras and any
custom layers' code to load. The serving model is for clients without this project,
so it is written with ``model.export`` (a SavedModel whose ``serve`` endpoint and
``serving_default`` signature take the model's named inputs) and read back with
``tf.saved_model.load``.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import keras
import tensorflow as tf
from kedro.io import AbstractDataset


class ServingModelDataset(AbstractDataset[keras.Model, Any]):
    """Exports a Keras model as a SavedModel folder on the local file system; loads it back.

    Example catalog entry::

        serving_model:
          type: multimodal_keras.datasets.ServingModelDataset
          filepath: data/06_models/serving
    """

    def __init__(self, *, filepath: str, metadata: dict[str, Any] | None = None) -> None:
        """Create a dataset for the SavedModel folder at ``filepath``."""
        self._filepath = Path(filepath)
        self.metadata = metadata

    def _describe(self) -> dict[str, Any]:
        return {"filepath": str(self._filepath)}

    def load(self) -> Any:
        """The SavedModel as TensorFlow loads it: call ``.serve(dict)`` or its signatures."""
        return tf.saved_model.load(str(self._filepath))

    def save(self, data: keras.Model) -> None:
        """Export next to the folder, then swap it in, so a failed export leaves the old one."""
        target = self._filepath
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".partial")
        previous = target.with_name(target.name + ".old")
        for leftover in (partial, previous):
            shutil.rmtree(leftover, ignore_errors=True)
        try:
            data.export(str(partial), format="tf_saved_model", verbose=False)
        except BaseException:
            shutil.rmtree(partial, ignore_errors=True)
            raise
        if target.exists():
            target.rename(previous)
        partial.rename(target)
        shutil.rmtree(previous, ignore_errors=True)

    def _exists(self) -> bool:
        return (self._filepath / "saved_model.pb").is_file()
