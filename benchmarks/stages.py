"""Measurement groups that run inside one Python process each, in a benchmark project copy.

``python benchmarks/stages.py GROUP PROJECT [options as JSON]`` prints one JSON line:

- ``stages``: every node of the project, in pipeline order, each followed by the catalog
  save of its outputs, beside the seed's calls for the same stage; then training step
  times on the tf.data pipeline over memory-mapped arrays against the same batches
  held in memory;
- ``images``: the image transform node (checks, decode, resize, writing the ``.npy``)
  against bare parallel tf.data loops over the same bytes (with the project's
  ``decode_and_resize``, and with the seed's two ops) and the seed's eager loop;
- ``memory``: the image node alone over a table of many images, for its peak memory.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KEDRO_DISABLE_TELEMETRY", "1")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import tensorflow as tf  # noqa: E402

from multimodal_keras.tables import as_frame  # noqa: E402

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import seed_approach  # noqa: E402
from measure import Measurement, measure  # noqa: E402


def _session(project: Path) -> tuple[Any, dict[str, Any]]:
    from kedro.framework.session import KedroSession
    from kedro.framework.startup import bootstrap_project

    os.chdir(project)
    bootstrap_project(project)
    context = KedroSession.create(project_path=project).load_context()
    return context.catalog, context.params


def _row(stage: str, approach: str, measurement: Any, count: int, unit: str) -> dict[str, Any]:
    return {
        "stage": stage,
        "approach": approach,
        "seconds": measurement.seconds,
        "count": count,
        "unit": unit,
        "per_second": count / measurement.seconds if measurement.seconds else None,
        "peak_above_mib": measurement.peak_above_mib,
        "before_mib": measurement.before_mib,
    }


# The first steps trace and warm up the graphs; they are not the steady state.
STEPS_SKIPPED = 5


def _project_stages(catalog: Any, params: dict[str, Any]) -> list[dict[str, Any]]:
    """Each node of the default pipeline in order, with the catalog saves of its outputs."""
    from multimodal_keras.modalities import MODALITIES
    from multimodal_keras.modalities.base import configured_columns
    from multimodal_keras.pipelines.data_processing import nodes as data_nodes
    from multimodal_keras.pipelines.evaluation.nodes import evaluate_model
    from multimodal_keras.pipelines.features.nodes import fit_preprocessor_for, transform_for
    from multimodal_keras.pipelines.training.nodes import build_model, train_model
    from multimodal_keras.splitting import TEST, TRAIN, split_positions

    rows: list[dict[str, Any]] = []

    def node(stage: str, call: Any, outputs: list[str], count: int, unit: str = "rows") -> None:
        def run() -> None:
            result = call()
            values = result if len(outputs) > 1 else [result]
            for name, value in zip(outputs, values, strict=True):
                catalog.save(name, value)

        rows.append(_row(stage, "project", measure(run), count, unit))

    raw = catalog.load("raw_table")
    modalities = {name: params[name] for name in MODALITIES}
    table, split_params, seed = params["table"], params["split"], params["seed"]
    node(
        "validation",
        lambda: data_nodes.validate_table(raw, table, split_params, **modalities),
        ["primary_table", "missing_value_markers"],
        len(raw),
    )
    primary = catalog.load("primary_table")
    node(
        "split",
        lambda: data_nodes.split_rows(primary, table, split_params, seed),
        ["split_assignments"],
        len(primary),
    )
    split = catalog.load("split_assignments")
    node(
        "target encoding",
        lambda: data_nodes.fit_target(primary, split, table),
        ["target_encoder"],
        len(primary),
    )
    target_encoder = catalog.load("target_encoder")
    catalog.save("encoded_target", data_nodes.encode_target(target_encoder, primary))
    train_count = len(split_positions(split, TRAIN))
    processing = params["processing"]
    for name in MODALITIES:
        if not configured_columns(params[name]):
            preprocessor = fit_preprocessor_for(name)(
                primary, split, params[name], processing, seed
            )
            catalog.save(f"{name}.preprocessor", preprocessor)
            catalog.save(f"{name}.features", transform_for(name)(preprocessor, primary, processing))
            continue
        node(
            f"{name} fit",
            lambda name=name: fit_preprocessor_for(name)(
                primary, split, params[name], processing, seed
            ),
            [f"{name}.preprocessor"],
            train_count,
        )
        preprocessor = catalog.load(f"{name}.preprocessor")
        is_image = name == "image"
        node(
            f"{name} transform",
            lambda name=name, fitted=preprocessor: transform_for(name)(fitted, primary, processing),
            [f"{name}.features"],
            len(primary) * (len(params[name]["columns"]) if is_image else 1),
            "images" if is_image else "rows",
        )
    preprocessors = {name: catalog.load(f"{name}.preprocessor") for name in MODALITIES}
    catalog.save(
        "untrained_model", build_model(target_encoder, params["model"], seed, **preprocessors)
    )
    features = {name: catalog.load(f"{name}.features") for name in MODALITIES}
    encoded_target = catalog.load("encoded_target")
    node(
        "training (1 epoch)",
        lambda: train_model(
            catalog.load("untrained_model"),
            target_encoder,
            encoded_target,
            split,
            {**params["training"], "epochs": 1, "verbose": 0},
            seed,
            **features,
        ),
        ["trained_model", "training_history", "learning_curves"],
        train_count,
    )
    node(
        "evaluation",
        lambda: evaluate_model(
            catalog.load("trained_model"),
            target_encoder,
            encoded_target,
            split,
            params["evaluation"],
            **features,
        ),
        ["metrics", "test_predictions", "evaluation_figures"],
        len(split_positions(split, TEST)),
    )
    return rows


class _Inputs:
    """What the training comparisons share: features, targets, rows, the untrained model."""

    def __init__(self, catalog: Any, params: dict[str, Any]) -> None:
        from multimodal_keras.modalities import MODALITIES
        from multimodal_keras.model.train import input_names
        from multimodal_keras.splitting import TEST, TRAIN, split_positions

        self.catalog, self.params = catalog, params
        split = catalog.load("split_assignments")
        self.features = {name: catalog.load(f"{name}.features") for name in MODALITIES}
        self.y = catalog.load("encoded_target")["target"].to_numpy()
        self.train_rows = split_positions(split, TRAIN)
        self.test_rows = split_positions(split, TEST)
        self.target_encoder = catalog.load("target_encoder")
        self.names = input_names(catalog.load("untrained_model"))
        from multimodal_keras.model.train import batch_size_for

        self.batch_size = batch_size_for(params["training"], len(self.train_rows))
        self.seed = int(params["seed"])

    def compiled_model(self) -> keras.Model:
        from multimodal_keras.model.train import compile_model, seed_everything

        model = self.catalog.load("untrained_model")
        seed_everything(self.seed, bool(self.params["training"].get("deterministic", True)))
        compile_model(model, self.target_encoder, self.params["training"])
        return model


def _step_times(inputs: _Inputs, repeats: int) -> dict[str, list[float]]:
    """Seconds of each training step on the tf.data pipeline and on the same batches in memory.

    One compiled model takes a step from each input in turn, so that both see the same
    load on a shared machine: whole epochs run one after the other were swayed by other
    work arriving or leaving between them. A step's time includes fetching its batch.
    """
    from multimodal_keras.model.inputs import model_inputs, row_batches
    from multimodal_keras.model.train import dataset

    in_memory = model_inputs(inputs.names, inputs.features, inputs.train_rows)
    y_train = inputs.y[inputs.train_rows]
    streamed = row_batches(inputs.names, inputs.features, inputs.y, inputs.train_rows)
    datasets = {
        "pipeline": streamed.dataset(inputs.batch_size, shuffle_seed=inputs.seed),
        "in_memory": dataset(in_memory, y_train, inputs.batch_size, shuffle_seed=inputs.seed),
    }
    model = inputs.compiled_model()
    model.make_train_function()
    step = model.train_function
    times: dict[str, list[float]] = {name: [] for name in datasets}
    for _ in range(repeats):
        iterators = {name: iter(data) for name, data in datasets.items()}
        for index in range(-(-len(inputs.train_rows) // inputs.batch_size)):
            for name, iterator in iterators.items():
                started = time.perf_counter()
                logs = step(iterator)
                float(logs["loss"])  # wait for the step to finish
                if index >= STEPS_SKIPPED:
                    times[name].append(time.perf_counter() - started)
    return times


def _seed_stages(catalog: Any, params: dict[str, Any], inputs: _Inputs) -> list[dict[str, Any]]:
    """The seed's calls for the tabular and text stages, training and evaluation."""
    from multimodal_keras.modalities import MODALITIES
    from multimodal_keras.modalities.base import configured_columns
    from multimodal_keras.model.inputs import model_inputs

    rows: list[dict[str, Any]] = []
    frame = as_frame(catalog.load("raw_table"))  # the seed reads the whole table
    columns = {name: configured_columns(params[name]) for name in MODALITIES}
    for column in columns["text"]:
        frame[column] = frame[column].astype(object)  # the seed's frames hold Python strings
    np.random.seed(int(params["seed"]))  # noqa: NPY002 - the seed's own global generator

    def seed_row(stage: str, call: Any, count: int) -> Measurement:
        taken = measure(call)
        rows.append(_row(stage, "seed", taken, count, "rows"))
        return taken

    test_fraction = params["split"]["test_fraction"]
    seed_row("split", lambda: seed_approach.split(frame, test_fraction), len(frame))
    if columns["categorical"]:
        categorical = columns["categorical"]
        seed_row(
            "categorical fit", lambda: seed_approach.categorical(frame, categorical), len(frame)
        )
    if columns["numerical"]:
        numerical = columns["numerical"]
        seed_row("numerical fit", lambda: seed_approach.numerical(frame, numerical), len(frame))
    if columns["text"]:
        tokens, length = int(params["text"]["max_tokens"]), int(params["text"]["sequence_length"])
        seed_row(
            "text fit",
            lambda: [seed_approach.text(frame, c, tokens, length) for c in columns["text"]],
            len(frame),
        )

    def train() -> keras.Model:
        model = inputs.compiled_model()
        x_train = model_inputs(inputs.names, inputs.features, inputs.train_rows)
        y_train = inputs.y[inputs.train_rows]
        model.fit(x=x_train, y=y_train, epochs=1, batch_size=inputs.batch_size, verbose=0)
        return model

    trained = seed_row("training (1 epoch)", train, len(inputs.train_rows)).result
    seed_row(
        "evaluation",
        lambda: trained.evaluate(
            x=model_inputs(inputs.names, inputs.features, inputs.test_rows),
            y=inputs.y[inputs.test_rows],
            batch_size=int(params["evaluation"]["batch_size"]),
            verbose=0,
        ),
        len(inputs.test_rows),
    )
    return rows


def stages(project: Path, options: dict[str, Any]) -> dict[str, Any]:
    """Each node of the default pipeline with its saves, and the seed's call for the stage."""
    catalog, params = _session(project)
    rows = _project_stages(catalog, params)
    inputs = _Inputs(catalog, params)
    steps = _step_times(inputs, int(options.get("step_repeats", 3)))
    rows += _seed_stages(catalog, params, inputs)
    return {
        "rows": rows,
        "step_seconds": steps,
        "train_rows": len(inputs.train_rows),
        "batch_size": inputs.batch_size,
        "model_parameters": int(catalog.load("untrained_model").count_params()),
    }


def _image_node(catalog: Any, processing: dict[str, Any]) -> Any:
    """The image transform node followed by the save of its output, as the catalog declares it."""
    from multimodal_keras.pipelines.features.nodes import transform_for

    def run(preprocessor: Any, primary: pd.DataFrame) -> None:
        catalog.save("image.features", transform_for("image")(preprocessor, primary, processing))

    return run


def images(project: Path, options: dict[str, Any]) -> dict[str, Any]:
    """The image node against the bare tf.data loop and the seed's loop, interleaved."""
    from multimodal_keras.modalities.image import decode_and_resize

    catalog, params = _session(project)
    primary = as_frame(catalog.load("primary_table"))
    preprocessor = catalog.load("image.preprocessor")
    columns = preprocessor.columns
    count = len(primary) * len(columns)
    size = (preprocessor.height, preprocessor.width)
    node = _image_node(catalog, params["processing"])
    encoded = [bytes(cell) for column in columns for cell in primary[column]]

    def bare(decode: Any) -> None:
        pixels = (
            tf.data.Dataset.from_tensor_slices(tf.constant(encoded, dtype=tf.string))
            .map(decode, num_parallel_calls=tf.data.AUTOTUNE)
            .batch(preprocessor.chunk_size)
            .prefetch(tf.data.AUTOTUNE)
        )
        for _ in pixels.as_numpy_iterator():
            pass

    def project_ops(image: tf.Tensor) -> tf.Tensor:
        return decode_and_resize(image, *size, preprocessor.channels, preprocessor.interpolation)

    def decode_only(image: tf.Tensor) -> tf.Tensor:
        return tf.io.decode_image(image, channels=preprocessor.channels, expand_animations=False)

    def seed_ops(image: tf.Tensor) -> tf.Tensor:
        # The seed's own two calls, in a parallel map, uint8 out.
        return tf.cast(tf.image.resize(tf.image.decode_png(image, channels=3), size), tf.uint8)

    def seed() -> None:
        for column in columns:
            seed_approach.image(primary, column, size)

    calls = {
        "bare_tf_data": lambda: bare(project_ops),
        "project": lambda: node(preprocessor, primary),
        "bare_tf_data_seed_ops": lambda: bare(seed_ops),
        "bare_decode_only": lambda: bare(decode_only),
        "seed": seed,
    }
    results: dict[str, list[dict[str, float]]] = {name: [] for name in calls}
    for _ in range(int(options.get("repeats", 3))):
        for name, call in calls.items():
            taken = measure(call)
            results[name].append({"seconds": taken.seconds, "peak_above_mib": taken.peak_above_mib})
    return {"images": count, "size": list(size), "runs": results}


def memory(project: Path, options: dict[str, Any]) -> dict[str, Any]:
    """The image node over a table of many images, for its peak memory above the process's."""
    from multimodal_keras.modalities import image
    from multimodal_keras.modalities.base import ROW_ID

    catalog, params = _session(project)
    table = pd.read_parquet(options["table"])
    columns = [column for column in table.columns if column in params["image"]["columns"]]
    primary = table[columns].copy()
    primary.insert(0, ROW_ID, np.arange(len(primary), dtype=np.int64))
    preprocessor = image.fit(primary.iloc[:0], params["image"])
    node = _image_node(catalog, params["processing"])
    taken = measure(lambda: node(preprocessor, primary))
    pixels = len(primary) * len(columns) * preprocessor.height * preprocessor.width
    return {
        "images": len(primary) * len(columns),
        "seconds": taken.seconds,
        "before_mib": taken.before_mib,
        "peak_above_mib": taken.peak_above_mib,
        "uint8_mib": pixels * preprocessor.channels / 2**20,
        "float32_mib": 4 * pixels * preprocessor.channels / 2**20,
    }


GROUPS = {"stages": stages, "images": images, "memory": memory}


if __name__ == "__main__":
    group, project = sys.argv[1], Path(sys.argv[2]).resolve()
    sys.path.insert(0, str(project / "src"))  # the copy's own package, as `kedro run` would
    options = json.loads(sys.argv[3]) if len(sys.argv) > 3 else {}
    result = GROUPS[group](project, options)
    print("BENCHMARK-RESULT " + json.dumps(result))
