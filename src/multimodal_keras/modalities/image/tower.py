"""The image tower: a small CNN (or a ``keras.applications`` backbone) shared by every image
column, its training-only augmentation, and its options (``model.towers.image``).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

import keras
from pydantic import Field

from multimodal_keras import options
from multimodal_keras.errors import MultimodalKerasError
from multimodal_keras.modalities.base import dense_block
from multimodal_keras.modalities.image.preprocessor import ImagePreprocessor


class Augmentation(options.Options):
    """``model.towers.image.augmentation``: 0 or false (or leaving it out) skips a step."""

    horizontal_flip: bool = False
    translation: Annotated[float, Field(ge=0, lt=1)] = 0.0
    rotation: Annotated[float, Field(ge=0, le=1)] = 0.0
    zoom: Annotated[float, Field(ge=0, lt=1)] = 0.0
    fill_mode: Literal["reflect", "constant", "nearest", "wrap"] = "reflect"


class TowerOptions(options.Options):
    """``model.towers.image``: the small CNN, its augmentation, or a backbone."""

    conv_filters: options.Units
    convs_per_block: options.Positive
    kernel_size: options.Positive
    pool_until: options.Positive
    batch_norm_momentum: Annotated[float, Field(ge=0, lt=1)] | None
    pooled_dropout: options.Dropout
    units: options.Units
    dropout: options.Dropout
    augmentation: Augmentation | None
    backbone: str | None
    backbone_weights: str | None
    backbone_trainable: bool
    backbone_input_size: options.Positive
    backbone_input_range: tuple[float, float]


# keras.applications backbones were trained on RGB, so grey images are repeated to three.
BACKBONE_CHANNELS = 3


@keras.saving.register_keras_serializable(package="multimodal_keras")
class TrainingAugmentation(keras.layers.Layer):
    """Random flips, shifts, rotations and zooms of each image, applied only while training.

    Keras' random preprocessing layers augment whenever ``training`` is not passed (their
    default is True), so a model called directly, as ``model.export`` does, would augment
    its predictions. This layer defaults to False and runs them only when training is on.
    Each factor is a fraction as Keras' layers take it; 0 or False leaves that step out.
    """

    def __init__(
        self,
        horizontal_flip: bool = False,
        translation: float = 0.0,
        rotation: float = 0.0,
        zoom: float = 0.0,
        fill_mode: str = "reflect",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.horizontal_flip, self.fill_mode = bool(horizontal_flip), fill_mode
        self.translation, self.rotation = float(translation), float(rotation)
        self.zoom = float(zoom)
        self.steps: list[keras.layers.Layer] = []
        if self.horizontal_flip:
            self.steps.append(keras.layers.RandomFlip("horizontal"))
        if self.translation:
            self.steps.append(
                keras.layers.RandomTranslation(
                    self.translation, self.translation, fill_mode=fill_mode
                )
            )
        if self.rotation:
            self.steps.append(keras.layers.RandomRotation(self.rotation, fill_mode=fill_mode))
        if self.zoom:
            self.steps.append(keras.layers.RandomZoom(self.zoom, fill_mode=fill_mode))

    @property
    def active(self) -> bool:
        """Whether any augmentation step is configured."""
        return bool(self.steps)

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        for step in self.steps:
            step.build(input_shape)

    def call(self, images: Any, training: bool = False) -> Any:
        if not training:
            return images
        for step in self.steps:
            images = step(images, training=True)
        return images

    def compute_output_shape(self, input_shape: tuple[int | None, ...]) -> tuple[int | None, ...]:
        return input_shape

    def get_config(self) -> dict[str, Any]:
        return super().get_config() | {
            "horizontal_flip": self.horizontal_flip,
            "translation": self.translation,
            "rotation": self.rotation,
            "zoom": self.zoom,
            "fill_mode": self.fill_mode,
        }


AUGMENTATION_KEYS = ("horizontal_flip", "translation", "rotation", "zoom", "fill_mode")


def augmentation(settings: Mapping[str, Any] | None, name: str) -> TrainingAugmentation | None:
    """The configured training-only augmentation, or None when every step is off."""
    settings = dict(settings or {})
    unknown = sorted(set(settings) - set(AUGMENTATION_KEYS))
    if unknown:
        raise MultimodalKerasError(
            f"Unknown image augmentation setting(s) {unknown} in "
            f"model.towers.image.augmentation; use only {list(AUGMENTATION_KEYS)}."
        )
    layer = TrainingAugmentation(**settings, name=f"{name}_augmentation")
    return layer if layer.active else None


# What a tower block written before these keys means: as near the tower of then as can be.
TOWER_FALLBACKS = {
    "convs_per_block": 1,
    "pool_until": 1,
    "pooled_dropout": 0.0,
    "backbone_trainable": True,
}


def _setting(tower: Mapping[str, Any], key: str) -> Any:
    """The tower's setting, or its fallback when the key is absent or null."""
    value = tower.get(key)
    return TOWER_FALLBACKS[key] if value is None else value


def conv_blocks(images: keras.KerasTensor, tower: Mapping[str, Any]) -> keras.KerasTensor:
    """Convolution blocks with batch normalisation and pooling, then global average pooling.

    Per ``conv_filters`` entry, ``convs_per_block`` times (convolution without bias, batch
    norm, ReLU), then 2x2 max pooling, left out once the map is ``pool_until`` pixels or
    fewer across, so 8x8 inputs still go through several blocks. Without
    ``batch_norm_momentum``, Keras' default is used.
    """
    # Few steps per epoch (small image sets) need a lower momentum for the moving statistics.
    momentum = tower.get("batch_norm_momentum")
    norm = {} if momentum is None else {"momentum": float(momentum)}
    pool_until = int(_setting(tower, "pool_until"))
    for filters in tower["conv_filters"]:
        for _ in range(int(_setting(tower, "convs_per_block"))):
            # No bias: batch normalisation's offset takes its place.
            images = keras.layers.Conv2D(
                int(filters), int(tower["kernel_size"]), padding="same", use_bias=False
            )(images)
            images = keras.layers.BatchNormalization(**norm)(images)
            images = keras.layers.Activation("relu")(images)
        if min(images.shape[1:3]) > pool_until:
            images = keras.layers.MaxPooling2D(padding="same")(images)
    return keras.layers.GlobalAveragePooling2D()(images)


def backbone_features(images: keras.KerasTensor, tower: Mapping[str, Any]) -> keras.KerasTensor:
    """A ``keras.applications`` model, headless and average-pooled, with its input adapted.

    Images smaller than ``backbone_input_size`` are resized up to it, grey images are
    repeated to three channels, and the [0, 1] pixels are mapped to ``backbone_input_range``
    (0 to 255 for backbones that carry their own preprocessing: MobileNetV3, EfficientNet,
    ConvNeXt; -1 to 1 for MobileNetV2, ResNetV2, Xception).
    """
    name, weights = str(tower["backbone"]), tower.get("backbone_weights")
    application = getattr(keras.applications, name, None)
    if not callable(application) or isinstance(application, type(keras.applications)):
        raise MultimodalKerasError(
            f"Unknown image backbone {name!r} in model.towers.image.backbone; set it to null "
            "for the small CNN or to a keras.applications model name such as "
            "MobileNetV3Small or EfficientNetB0."
        )
    if weights not in (None, "imagenet") and not Path(str(weights)).is_file():
        raise MultimodalKerasError(
            f"No backbone weights file at {weights!r} (model.towers.image.backbone_weights); "
            "give the path of a .weights.h5 file saved from the same headless backbone, "
            "imagenet, or null."
        )
    height, width, channels = images.shape[1:]
    if channels not in (1, BACKBONE_CHANNELS):
        raise MultimodalKerasError(
            f"The image backbone {name} reads 1 or {BACKBONE_CHANNELS} channels but "
            f"image.channels is {channels}; set image.channels to 1 or {BACKBONE_CHANNELS}."
        )
    smallest = int(tower["backbone_input_size"])
    size = (max(height, smallest), max(width, smallest))
    if size != (height, width):
        images = keras.layers.Resizing(*size)(images)
    if channels == 1:
        images = keras.layers.Concatenate()([images] * BACKBONE_CHANNELS)
    low, high = (float(bound) for bound in tower["backbone_input_range"])
    images = keras.layers.Rescaling(high - low, offset=low)(images)
    try:
        backbone = application(
            include_top=False,
            weights=weights,
            input_shape=(*size, BACKBONE_CHANNELS),
            pooling="avg",
        )
    except Exception as error:  # Keras raises a bare Exception when a download fails
        raise MultimodalKerasError(
            f"The image backbone {name} with weights {weights!r} could not be built ({error}); "
            "check model.towers.image.backbone_* (imagenet weights need internet: offline, "
            "give a local weights file path or null)."
        ) from error
    backbone.trainable = bool(_setting(tower, "backbone_trainable"))
    return backbone(images)


def build_tower(
    name: str, preprocessor: ImagePreprocessor, tower: Mapping[str, Any]
) -> tuple[keras.KerasTensor, keras.KerasTensor]:
    """A CNN (or a keras.applications backbone) shared by every image column, then dense layers.

    Per image: rescale to [0, 1], augment while training (``augmentation``), then either
    convolution blocks with batch normalisation and pooling (``conv_blocks``) or, when
    ``backbone`` names one, a ``keras.applications`` model (``backbone_features``); both
    end in global average pooling. The columns' pooled features are concatenated, dropped
    out (``pooled_dropout``) and go through the dense block. Every layer is a built-in
    Keras layer or registered, so the model saves and loads with ``safe_mode`` on.
    """
    size = (preprocessor.height, preprocessor.width, preprocessor.channels)
    inputs = keras.Input(shape=(len(preprocessor.columns), *size), name=name, dtype="uint8")
    image = keras.Input(shape=size, dtype="uint8")
    pixels = keras.layers.Rescaling(1.0 / 255.0)(image)
    augment = augmentation(tower.get("augmentation"), name)
    if augment is not None:
        pixels = augment(pixels)
    if tower.get("backbone"):
        pooled = backbone_features(pixels, tower)
    else:
        pooled = conv_blocks(pixels, tower)
    cnn = keras.Model(image, pooled, name=f"{name}_cnn")
    features = keras.layers.TimeDistributed(cnn, name=f"{name}_cnn_per_column")(inputs)
    flat = keras.layers.Flatten(name=f"{name}_flatten")(features)
    pooled_dropout = float(_setting(tower, "pooled_dropout"))
    if pooled_dropout:
        flat = keras.layers.Dropout(pooled_dropout, name=f"{name}_pooled_dropout")(flat)
    return inputs, dense_block(flat, list(tower["units"]), float(tower["dropout"]), name)
