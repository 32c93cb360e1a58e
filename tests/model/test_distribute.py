"""Distribution strategies, in this process: settings, the chief, sharding, models, the loops.

A multi-worker strategy and logical CPUs can only be set up before TensorFlow starts, so
what needs them runs in worker processes (tests/integration/test_distributed_training.py);
here the one-device ``MirroredStrategy`` stands in, since the loop of our own works
under any strategy.
"""

from __future__ import annotations

import json

import keras
import numpy as np
import pytest
import tensorflow as tf

from multimodal_keras.errors import MultimodalKerasError
from multimodal_keras.model import distribute
from multimodal_keras.model.distribute import Distribution, Shard
from multimodal_keras.model.train import dataset


@pytest.fixture(scope="module")
def one_device() -> tf.distribute.Strategy:
    return tf.distribute.MirroredStrategy(["/cpu:0"])


def test_distribution_defaults_to_one_device_when_not_configured():
    assert Distribution.from_training({}) == Distribution("default", None)
    assert Distribution.from_training({"distribution": {"strategy": "mirrored"}}).strategy == (
        "mirrored"
    )


@pytest.mark.parametrize(
    ("settings", "named"),
    [
        ({"strategy": "horovod"}, "training.distribution.strategy"),
        ({"strategy": "mirrored", "logical_cpus": 0}, "training.distribution.logical_cpus"),
        ({"strategy": "mirrored", "logical_cpus": "2"}, "training.distribution.logical_cpus"),
    ],
)
def test_a_bad_distribution_setting_is_named_in_one_sentence(settings, named):
    with pytest.raises(MultimodalKerasError, match=named) as raised:
        Distribution.from_training({"distribution": settings})
    assert str(raised.value).count(". ") == 0


def tf_config(task_type: str, index: int, chief: bool = False) -> str:
    cluster = {"worker": ["localhost:1", "localhost:2"]}
    if chief:
        cluster["chief"] = ["localhost:3"]
    return json.dumps({"cluster": cluster, "task": {"type": task_type, "index": index}})


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ("", True),
        (tf_config("worker", 0), True),
        (tf_config("worker", 1), False),
        (tf_config("chief", 0, chief=True), True),
        (tf_config("worker", 0, chief=True), False),
    ],
    ids=["no cluster", "worker 0", "worker 1", "chief task", "worker 0 beside a chief"],
)
def test_the_chief_is_the_chief_task_or_else_worker_0(config, expected):
    assert distribute.is_chief(config) is expected


def test_the_chief_is_read_from_tf_config(monkeypatch):
    monkeypatch.setenv("TF_CONFIG", tf_config("worker", 1))
    assert not distribute.is_chief()
    assert distribute.describe_task() == "worker 1"


def test_the_cpu_cannot_be_split_once_tensorflow_has_started():
    tf.config.list_logical_devices("CPU")  # TensorFlow has started in this process

    with pytest.raises(MultimodalKerasError, match="before any TensorFlow work"):
        distribute.split_cpu(3)


def shard_batches(rows: int, batch_size: int, shard: Shard, steps: int) -> list[np.ndarray]:
    data = dataset({"x": np.arange(rows)}, np.zeros(rows), batch_size, shuffle_seed=3, shard=shard)
    return [inputs["x"].numpy() for inputs, _ in data.take(steps)]


def test_workers_read_disjoint_full_batches_of_one_shuffled_order_for_as_long_as_asked():
    rows, batch_size, workers = 129, 16, 2  # 129 rows do not split evenly
    steps = distribute.steps_per_epoch(rows, batch_size, tf.distribute.get_strategy()) * 2
    first, second = (shard_batches(rows, batch_size, Shard(workers, i), steps) for i in (0, 1))

    assert all(len(batch) == batch_size for batch in first + second)
    # Both workers shuffle alike and take every other row of that order.
    order = np.empty(2 * steps * batch_size, dtype=int)
    order[0::2], order[1::2] = np.concatenate(first), np.concatenate(second)
    assert sorted(order[:rows]) == list(range(rows))
    assert sorted(order[rows : 2 * rows]) == list(range(rows))  # the next pass, reshuffled
    assert not np.array_equal(order[:rows], order[rows : 2 * rows])


def test_without_a_shard_the_dataset_is_one_pass():
    data = dataset({"x": np.arange(10)}, np.zeros(10), 4, shuffle_seed=3)
    assert [len(inputs["x"]) for inputs, _ in data] == [4, 4, 2]


def test_auto_sharding_is_off_for_arrays():
    data = distribute.unsharded(tf.data.Dataset.range(4))
    assert (
        data.options().experimental_distribute.auto_shard_policy
        == tf.data.experimental.AutoShardPolicy.OFF
    )


def small_model() -> keras.Model:
    inputs = keras.Input((3, 4, 4, 1), name="image")
    cnn = keras.Sequential(
        [keras.layers.Conv2D(2, 3), keras.layers.BatchNormalization(), keras.layers.Flatten()]
    )
    features = keras.layers.TimeDistributed(cnn)(inputs)
    hidden = keras.layers.Dropout(0.1)(keras.layers.Flatten()(features))
    outputs = keras.layers.Dense(1, activation="sigmoid")(hidden)
    return keras.Model({"image": inputs}, outputs)


def batch_norms(model: keras.Model) -> list[keras.layers.BatchNormalization]:
    found = []
    for layer in model._flatten_layers(include_self=False, recursive=True):
        if isinstance(layer, keras.layers.BatchNormalization):
            found.append(layer)
    return found


def test_a_model_is_made_again_in_the_scope_and_detached_with_the_same_variables(one_device):
    keras.utils.set_random_seed(0)
    model = small_model()
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])

    replica = distribute.replicate(model, one_device)
    detached = distribute.detach(replica)

    for copy in (replica, detached):
        for original, copied in zip(model.variables, copy.variables, strict=True):
            np.testing.assert_array_equal(np.asarray(original), np.asarray(copied))
    assert replica.distribute_strategy is one_device
    assert all(layer.synchronized for layer in batch_norms(replica))
    assert not any(layer.synchronized for layer in batch_norms(detached))
    assert not isinstance(detached.variables[0].value, tf.distribute.DistributedValues)
    assert detached.get_compile_config() == model.get_compile_config()


def test_under_the_default_strategy_the_model_is_left_as_it_is():
    model = small_model()
    assert distribute.replicate(model, tf.distribute.get_strategy()) is model


def training_data(rows: int = 96, seed: int = 0):
    generator = np.random.default_rng(seed)
    images = generator.random((rows, 3, 4, 4, 1)).astype("float32")
    labels = (images.mean(axis=(1, 2, 3, 4)) > 0.5).astype("float32")
    return {"image": images}, labels


def fit_distributed(
    strategy,
    own_loop: bool,
    monkeypatch,
    epochs: int = 3,
    patience: int = 5,
    shuffle_seed=0,
    ema_momentum: float | None = None,
):
    monkeypatch.setattr(distribute, "runs_own_steps", lambda _: own_loop)
    keras.utils.set_random_seed(0)
    model = distribute.replicate(small_model(), strategy)
    averaged = {"use_ema": True, "ema_momentum": ema_momentum} if ema_momentum else {}
    with strategy.scope():
        model.compile(
            optimizer=keras.optimizers.Adam(0.01, **averaged),
            loss="binary_crossentropy",
            metrics=[keras.metrics.AUC(name="auc")],
        )
    train, validation = training_data(), training_data(40, seed=1)
    early_stopping = keras.callbacks.EarlyStopping(
        monitor="val_loss", patience=patience, restore_best_weights=True
    )
    history = distribute.fit_distributed(
        model,
        strategy,
        lambda shard, size: dataset(*train, size, shuffle_seed=shuffle_seed, shard=shard),
        len(train[1]),
        16,
        dataset(*validation, 16),
        epochs,
        # As training_callbacks orders them: the average is in the model when early
        # stopping copies the best epoch's weights.
        [keras.callbacks.SwapEMAWeights(swap_on_epoch=True), early_stopping]
        if ema_momentum
        else [early_stopping],
        class_weight={0: 1.0, 1: 2.0},
    )
    return model, history


@pytest.mark.integration
def test_the_loop_of_our_own_trains_like_keras_fit(one_device, monkeypatch):
    # Unshuffled: fit draws a batch to build the model first, which moves a shuffled
    # dataset on to its next order; the steps and metrics are what is compared.
    _, with_fit = fit_distributed(one_device, False, monkeypatch, shuffle_seed=None)
    _, with_steps = fit_distributed(one_device, True, monkeypatch, shuffle_seed=None)

    assert set(with_steps) == set(with_fit) == {"loss", "auc", "val_loss", "val_auc"}
    for name, values in with_fit.items():
        np.testing.assert_allclose(with_steps[name], values, rtol=1e-4, err_msg=name)


@pytest.mark.integration
def test_the_loop_of_our_own_stops_early_and_restores_the_best_weights(one_device, monkeypatch):
    model, history = fit_distributed(
        one_device, own_loop=True, monkeypatch=monkeypatch, epochs=30, patience=0
    )

    assert len(history["val_loss"]) < 30
    best = int(np.argmin(history["val_loss"]))
    assert best == len(history["val_loss"]) - 2  # patience 0: one epoch past the best
    validation = training_data(40, seed=1)
    detached = distribute.detach(model)
    scores = detached.evaluate(dataset(*validation, 16), verbose=0, return_dict=True)
    assert scores["loss"] == pytest.approx(history["val_loss"][best], rel=1e-5)


@pytest.mark.integration
@pytest.mark.parametrize("own_loop", [False, True])
def test_the_averaged_weights_are_validated_and_kept_under_a_strategy(
    one_device, monkeypatch, own_loop
):
    model, history = fit_distributed(
        one_device, own_loop, monkeypatch, epochs=6, patience=2, ema_momentum=0.8
    )

    best = int(np.argmin(history["val_loss"]))
    validation = training_data(40, seed=1)
    scores = distribute.detach(model).evaluate(
        dataset(*validation, 16), verbose=0, return_dict=True
    )
    assert scores["loss"] == pytest.approx(history["val_loss"][best], rel=1e-5)
