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
import numpy as np
import tensorflow as tf
from kedro.io import AbstractDataset

from multimodal_keras.errors import MultimodalKerasError


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
        checks = []
        for name, values in inputs.items():
            checks.append(
                tf.debugging.assert_equal(
                    tf.shape(values)[0],
                    rows,
                    message=f"serving input `{name}` has a different number of rows than "
                    f"`{first}`; send one value per row for every input",
                )
            )
            if values.dtype.is_floating:
                checks.append(
                    tf.debugging.assert_equal(
                        tf.reduce_any(tf.math.is_inf(values)),
                        False,
                        message=f"serving input `{name}` holds an infinite value; send a "
                        "finite number, or NaN for a missing one",
                    )
                )
        # The model waits for the checks: a graph runs independent ops in any order.
        with tf.control_dependencies(checks):
            rows = tf.identity(rows)
        return tf.cond(rows > 0, lambda: model(inputs, training=False), empty_outputs)

    return serve


class ServedModel:
    """A loaded serving model whose ``serve`` checks a request's keys and types first.

    TensorFlow refuses a missing or unknown key, or a float32 batch for a float64 input,
    before the graph runs, printing the whole request; this names the input instead, and
    converts numbers to the input's type (float32 to float64 is exact). Everything else is
    the loaded SavedModel's own.
    """

    def __init__(self, loaded: Any) -> None:
        self.loaded = loaded
        self.specs: dict[str, tf.TensorSpec] = dict(
            loaded.serve.concrete_functions[0].structured_input_signature[0][0]
        )

    def serve(self, inputs: dict[str, Any]) -> Any:
        """The endpoint on ``inputs``, one batch of values per column."""
        missing = sorted(set(self.specs) - set(inputs))
        unexpected = sorted(set(inputs) - set(self.specs))
        if missing or unexpected:
            problems = [
                f"lacks the input(s) {missing}" if missing else "",
                f"has the unknown input(s) {unexpected}" if unexpected else "",
            ]
            raise MultimodalKerasError(
                f"The request {' and '.join(p for p in problems if p)}; the serving model "
                f"takes exactly {sorted(self.specs)}, one batch of values each."
            )
        return self.loaded.serve({key: self.batch(key, inputs[key]) for key in self.specs})

    def batch(self, key: str, values: Any) -> tf.Tensor:
        """``values`` as the input ``key`` takes them, or an error naming the input."""
        spec = self.specs[key]
        numbers = spec.dtype.is_floating
        if not isinstance(values, tf.Tensor):
            try:
                values = tf.constant(np.asarray(values))
            except (TypeError, ValueError) as error:
                raise MultimodalKerasError(
                    f"The request's input `{key}` is not a batch of values of one type ({error})."
                ) from None
        if numbers and (values.dtype.is_floating or values.dtype.is_integer):
            values = tf.cast(values, spec.dtype)
        if values.dtype != spec.dtype:
            wanted = "numbers" if numbers else "strings (an image's encoded bytes)"
            raise MultimodalKerasError(
                f"The request's input `{key}` holds {values.dtype.name} values, but the serving "
                f"model reads {wanted} there ({spec.dtype.name})."
            )
        if values.shape.rank != 1:
            raise MultimodalKerasError(
                f"The request's input `{key}` has shape {values.shape.as_list()}, but it must be "
                "one value per row (shape [rows])."
            )
        return values

    def __getattr__(self, name: str) -> Any:
        return getattr(self.loaded, name)


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

    def load(self) -> ServedModel:
        """The SavedModel as TensorFlow loads it: call ``.serve(dict)`` or its signatures."""
        return ServedModel(tf.saved_model.load(str(self._filepath)))

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
