"""``ServingModelDataset``: a Keras model exported as a TensorFlow SavedModel folder.

kedro-datasets' TensorFlow dataset saves ``.keras`` files, which need Keras and any
custom layers' code to load. The serving model is for clients without this project,
so it is written as a SavedModel whose ``serve`` endpoint and ``serving_default`` signature
take the model's named inputs (``guarded_endpoint``), and read back with
``tf.saved_model.load``.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import keras
import tensorflow as tf
from kedro.io import AbstractDataset


def guarded_endpoint(model: keras.Model) -> Any:
    """``model`` on a dict of its named inputs, with the checks a client needs.

    An empty batch returns empty outputs (the model itself would fail inside its layers);
    inputs of different lengths, and infinite numbers (NaN is a missing value), stop the
    call with an error that names the input. Keras' ``model.export`` writes the call alone.
    """
    named = model.input if isinstance(model.input, dict) else {t.name: t for t in model.inputs}
    # Keyed as the model's inputs are (the table's column names, for ``serve``); the
    # signature takes each input's own name.
    specs = {
        key: tf.TensorSpec(tensor.shape, tensor.dtype, name=tensor.name)
        for key, tensor in named.items()
    }
    first = min(specs)

    def empty_outputs() -> Any:
        return tf.nest.map_structure(
            lambda output: tf.zeros((0, *output.shape[1:]), output.dtype), model.output
        )

    @tf.function(input_signature=[specs])
    def serve(inputs: dict[str, tf.Tensor]) -> Any:
        rows = tf.shape(inputs[first])[0]
        for name, values in inputs.items():
            tf.debugging.assert_equal(
                tf.shape(values)[0],
                rows,
                message=f"serving input `{name}` has a different number of rows than "
                f"`{first}`; send one value per row for every input",
            )
            if values.dtype.is_floating:
                tf.debugging.assert_equal(
                    tf.reduce_any(tf.math.is_inf(values)),
                    False,
                    message=f"serving input `{name}` holds an infinite value; send a finite "
                    "number, or NaN for a missing one",
                )
        return tf.cond(rows > 0, lambda: model(inputs, training=False), empty_outputs)

    return serve


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
            archive = keras.export.ExportArchive()
            archive.track(data)
            archive.add_endpoint("serve", guarded_endpoint(data))
            archive.write_out(str(partial), verbose=False)
        except BaseException:
            shutil.rmtree(partial, ignore_errors=True)
            raise
        if target.exists():
            target.rename(previous)
        partial.rename(target)
        shutil.rmtree(previous, ignore_errors=True)

    def _exists(self) -> bool:
        return (self._filepath / "saved_model.pb").is_file()
