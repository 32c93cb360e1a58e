"""The image tower: convolutions or a keras.applications backbone; augmentation while training."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf

from multimodal_keras.errors import MultimodalKerasError
from multimodal_keras.modalities import image

TOWER = {
    "conv_filters": [2, 4, 4],
    "convs_per_block": 2,
    "kernel_size": 3,
    "pool_until": 2,
    "batch_norm_momentum": 0.9,
    "pooled_dropout": 0.1,
    "units": [3],
    "dropout": 0.1,
    "augmentation": {"horizontal_flip": False, "translation": 0.2, "rotation": 0.0, "zoom": 0.0},
}
EVERY_AUGMENTATION = {"horizontal_flip": True, "translation": 0.2, "rotation": 0.1, "zoom": 0.2}
BACKBONE = {
    "backbone": "MobileNetV3Small",
    "backbone_weights": None,
    "backbone_trainable": True,
    "backbone_input_size": 32,
    "backbone_input_range": [0, 255],
}


def preprocessor(size: int = 8, channels: int = 1, columns: int = 1) -> image.ImagePreprocessor:
    return image.ImagePreprocessor(
        columns=[f"photo_{index}" for index in range(columns)],
        source="bytes",
        root=None,
        height=size,
        width=size,
        channels=channels,
        interpolation="bilinear",
        max_pixels=size * size,
    )


def tower_model(tower: dict, **sizes: int) -> keras.Model:
    return keras.Model(*image.build_tower("image", preprocessor(**sizes), tower))


def pixels(rows: int = 4, size: int = 8, channels: int = 1, columns: int = 1) -> np.ndarray:
    generator = np.random.default_rng(0)
    return generator.integers(0, 256, (rows, columns, size, size, channels), dtype=np.uint8)


def per_image(model: keras.Model) -> keras.Model:
    return model.get_layer("image_cnn_per_column").layer


def layers_of(model: keras.Model, kind: type) -> list[keras.layers.Layer]:
    return [layer for layer in per_image(model).layers if isinstance(layer, kind)]


@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("size", [8, 32])
def test_tower_reads_uint8_columns_of_any_size_and_channels(size, channels):
    model = tower_model(TOWER, size=size, channels=channels, columns=2)

    assert model.inputs[0].dtype == "uint8"
    assert tuple(model.inputs[0].shape) == (None, 2, size, size, channels)
    outputs = model.predict(pixels(size=size, channels=channels, columns=2), verbose=0)
    assert outputs.shape == (4, TOWER["units"][-1])


@pytest.mark.parametrize(("size", "poolings"), [(8, 2), (32, 3)])
def test_each_block_has_two_normalised_convolutions_and_pools_until_two_pixels(size, poolings):
    model = tower_model(TOWER, size=size)

    convolutions = layers_of(model, keras.layers.Conv2D)
    assert len(convolutions) == len(TOWER["conv_filters"]) * TOWER["convs_per_block"]
    assert not any(layer.use_bias for layer in convolutions)
    norms = layers_of(model, keras.layers.BatchNormalization)
    assert [layer.momentum for layer in norms] == pytest.approx([0.9] * len(convolutions))
    assert len(layers_of(model, keras.layers.MaxPooling2D)) == poolings
    assert len(layers_of(model, keras.layers.GlobalAveragePooling2D)) == 1


def test_augmentation_changes_images_only_while_training():
    model = tower_model(TOWER | {"augmentation": EVERY_AUGMENTATION})
    augmentation = per_image(model).get_layer("image_augmentation")
    images = tf.random.stateless_uniform((4, 8, 8, 1), seed=(1, 2))

    assert not np.allclose(augmentation(images, training=True), images)
    np.testing.assert_array_equal(augmentation(images, training=False), images)
    # Called without ``training``, as an exported serving model is, it does not augment.
    np.testing.assert_array_equal(augmentation(images), images)


def test_predictions_are_repeatable_with_augmentation_on():
    model = tower_model(TOWER | {"augmentation": EVERY_AUGMENTATION})
    batch = pixels()

    first = model.predict(batch, verbose=0)
    np.testing.assert_array_equal(model.predict(batch, verbose=0), first)
    np.testing.assert_array_equal(np.asarray(model(batch)), first)


def test_every_augmentation_off_adds_no_layer():
    off = {"horizontal_flip": False, "translation": 0.0, "rotation": 0, "zoom": 0.0}

    for settings in (off, None):
        model = tower_model(TOWER | {"augmentation": settings})
        assert not layers_of(model, image.TrainingAugmentation)


@pytest.mark.integration
def test_same_seed_trains_the_same_weights_with_augmentation():
    tf.config.experimental.enable_op_determinism()
    batch, targets = pixels(rows=16), np.arange(16) % 3

    def trained_weights() -> list[np.ndarray]:
        keras.utils.set_random_seed(5)
        inputs, features = image.build_tower(
            "image", preprocessor(), TOWER | {"augmentation": EVERY_AUGMENTATION}
        )
        model = keras.Model(inputs, keras.layers.Dense(3, activation="softmax")(features))
        model.compile("adam", "sparse_categorical_crossentropy")
        model.fit(batch, targets, batch_size=8, epochs=1, verbose=0)
        return [np.asarray(weight) for weight in model.weights]

    for first, again in zip(trained_weights(), trained_weights(), strict=True):
        np.testing.assert_array_equal(first, again)


@pytest.mark.integration
def test_backbone_builds_without_weights_from_small_grey_images():
    model = tower_model(TOWER | BACKBONE, size=8, channels=1, columns=2)

    backbone = per_image(model).get_layer("MobileNetV3Small")
    assert tuple(backbone.input_shape) == (None, 32, 32, 3)
    outputs = model.predict(pixels(rows=2, columns=2), verbose=0)
    assert outputs.shape == (2, TOWER["units"][-1])


@pytest.mark.integration
def test_backbone_can_be_frozen():
    model = tower_model(TOWER | BACKBONE | {"backbone_trainable": False})

    assert not per_image(model).get_layer("MobileNetV3Small").trainable_weights


def test_unknown_backbone_is_a_project_error():
    with pytest.raises(MultimodalKerasError, match="Unknown image backbone 'NoSuchNet'"):
        tower_model(TOWER | BACKBONE | {"backbone": "NoSuchNet"})


def test_missing_backbone_weights_file_is_a_project_error(tmp_path: Path):
    missing = str(tmp_path / "absent.weights.h5")

    with pytest.raises(MultimodalKerasError, match="No backbone weights file"):
        tower_model(TOWER | BACKBONE | {"backbone_weights": missing})


@pytest.mark.parametrize(
    "extra",
    [
        pytest.param({}, id="cnn"),
        pytest.param(BACKBONE, id="backbone", marks=pytest.mark.integration),
    ],
)
def test_saved_tower_reloads_with_safe_mode_and_predicts_the_same(extra, tmp_path: Path):
    model = tower_model(TOWER | {"augmentation": EVERY_AUGMENTATION} | extra, columns=2)
    batch = pixels(columns=2)

    model.save(tmp_path / "tower.keras")
    reloaded = keras.models.load_model(tmp_path / "tower.keras", safe_mode=True)

    np.testing.assert_array_equal(
        reloaded.predict(batch, verbose=0), model.predict(batch, verbose=0)
    )


def test_unknown_augmentation_setting_is_a_project_error():
    with pytest.raises(MultimodalKerasError, match="Unknown image augmentation setting"):
        tower_model(TOWER | {"augmentation": {"vertical_flip": True}})
