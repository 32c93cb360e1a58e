"""A client of the exported serving model that knows nothing of this project.

It imports TensorFlow and numpy only (importing this project, Kedro, scikit-learn,
pandas or Pillow raises), so it checks that the SavedModel stands alone.
Run as ``python -I serving_client.py MODEL_DIR FEED.npz OUT.npz [FEED.npz OUT.npz ...]``:
each feed holds one array of raw values per signature input; each output gets the
signature's outputs, and the names and dtypes of its inputs.
"""

import sys

REFUSED = {"multimodal_keras", "kedro", "sklearn", "pandas", "PIL"}


class RefuseProjectImports:
    """A meta path finder that fails every import of a refused package."""

    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in REFUSED:
            raise ImportError(f"the serving client may not import {name}")


sys.meta_path.insert(0, RefuseProjectImports())

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402


def score(serving, feed_path: str, output_path: str) -> None:
    signature = serving.signatures["serving_default"]
    specs = signature.structured_input_signature[1]
    with np.load(feed_path, allow_pickle=True) as feed:
        inputs = {name: tf.constant(feed[name], dtype=spec.dtype) for name, spec in specs.items()}
    outputs = {name: value.numpy() for name, value in signature(**inputs).items()}
    served = serving.serve(inputs)
    for name, value in outputs.items():
        np.testing.assert_array_equal(served[name].numpy(), value)
    if outputs["prediction"].dtype == object:
        outputs["prediction"] = np.array([label.decode() for label in outputs["prediction"]])
    np.savez(
        output_path,
        input_names=np.array(sorted(specs)),
        input_dtypes=np.array([specs[name].dtype.name for name in sorted(specs)]),
        **outputs,
    )


def main(model_dir: str, *paths: str) -> None:
    serving = tf.saved_model.load(model_dir)
    for feed_path, output_path in zip(paths[::2], paths[1::2], strict=True):
        score(serving, feed_path, output_path)
    imported = REFUSED & {name.partition(".")[0] for name in sys.modules}
    if imported:
        raise SystemExit(f"the serving client imported {sorted(imported)}")


if __name__ == "__main__":
    main(*sys.argv[1:])
