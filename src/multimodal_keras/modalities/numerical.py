"""Numerical columns: impute missing values, then scale, with scikit-learn.

The tower reads the scaled values directly, or through a piecewise-linear encoding over
bins of the training rows (Gorishniy, Rubachev and Babenko, "On Embeddings for Numerical
Features in Tabular Deep Learning", NeurIPS 2022): each value becomes a vector saying how
far it sits through each bin, which lets the network learn a different slope per range of
a feature and keeps heavy tails and outliers in the outermost bin. The bins' edges are the
training values' quantiles, or the thresholds of a small decision tree that predicts the
training rows' targets from the feature alone (the paper's target-aware bins).

The serving model repeats the fitted imputer and scaler in float64, step for step
as scikit-learn computes them, and casts to float32 last, as ``transform`` does; the
encoding is a layer of the trained model, so serving needs nothing more for it.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

import keras
import numpy as np
import pandas as pd
import tensorflow as tf
from pydantic import Field
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, MinMaxScaler, RobustScaler, StandardScaler
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

from multimodal_keras import options
from multimodal_keras.errors import MultimodalKerasError
from multimodal_keras.modalities import base
from multimodal_keras.modalities.base import (
    GRADIENT_BOOSTING,
    LINEAR,
    NUMBER,
    ROW_ID,
    BaselineBlock,
    configured_columns,
    dense_block,
    encoded_frame,
    feature_values,
    raw_inputs,
    warn_unused_column,
)
from multimodal_keras.splitting import FittedOnTrainingRows

logger = logging.getLogger(__name__)


class Options(options.Options):
    """``numerical``: the columns, their imputation, scaling and bins."""

    columns: list[str]
    imputation: Literal["mean", "median", "most_frequent"]
    add_missing_indicator: bool
    scaling: Literal["standard", "minmax", "robust", "none"]
    bins: Annotated[int, Field(ge=2)]
    bin_edges: Literal["quantile", "target"]
    bin_min_rows: options.Positive
    invalid_rows: Literal["error", "drop"]


class TowerOptions(options.Options):
    """``model.towers.numerical``."""

    encoding: Literal[
        "auto", "periodic", "piecewise_linear", "piecewise_linear_and_periodic", "none"
    ]
    both_min_rows: options.Positive
    periodic_min_rows: options.Positive
    open_ends: bool
    embedding_dim: options.Positive
    frequencies: options.Positive
    frequency_scales: tuple[Annotated[float, Field(gt=0)], Annotated[float, Field(gt=0)]]
    units: options.Units
    dropout: options.Dropout
    smooth_clip: options.PositiveFloat | options.AUTO | None
    auto_smooth_clip: options.PositiveFloat


RAW_DTYPE = NUMBER
BASELINE_KINDS = frozenset({GRADIENT_BOOSTING, LINEAR})
# The fit reads the training rows' encoded targets (``bin_edges: target``).
READS_TARGETS = True

SCALERS = {
    "standard": StandardScaler,
    "minmax": MinMaxScaler,
    "robust": RobustScaler,
    "none": lambda: FunctionTransformer(feature_names_out="one-to-one"),
}


@dataclass
class NumericalPreprocessor(FittedOnTrainingRows):
    """Imputer and scaler fitted on the training rows."""

    columns: list[str]
    pipeline: Pipeline | None
    # Per encoded feature, the bin edges of its scaled training values, lowest to highest.
    bin_edges: list[list[float]] = field(default_factory=list)
    # How many training rows it was fitted on (the tower's ``encoding: auto`` reads it).
    training_rows: int = 0

    @property
    def output_names(self) -> list[str]:
        if self.pipeline is None:
            return []
        return list(self.pipeline.get_feature_names_out())


def blank_as_missing(values: pd.Series) -> pd.Series:
    """Empty or blank strings in a numerical column mean a missing value."""
    if pd.api.types.is_numeric_dtype(values):
        return values
    return values.mask(values.astype("string").str.strip().eq("").fillna(False).astype(bool))


def as_float_frame(rows: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """The configured columns as float64, missing values as NaN."""
    frame = rows[columns].apply(blank_as_missing)
    try:
        return frame.apply(pd.to_numeric).astype("float64")
    except (TypeError, ValueError) as error:
        raise MultimodalKerasError(
            f"A numerical column holds values that are not numbers ({error}); "
            "clean the column or configure it as categorical."
        ) from error


def fit(
    train_rows: pd.DataFrame,
    options: Mapping[str, Any],
    training_rows: int | None = None,
    targets: np.ndarray | None = None,
    seed: int = 0,
) -> NumericalPreprocessor:
    """Fit the imputer, the scaler and the bin edges on the training rows' numerical columns.

    ``training_rows``: how many training rows there are when ``train_rows`` is a sample of
    them; the preprocessor records it (the tower's ``encoding: auto`` reads it).
    ``targets``: the encoded targets of ``train_rows``, which ``bin_edges: target`` reads;
    ``seed`` seeds its trees.
    """
    columns = configured_columns(options)
    if not columns:
        return NumericalPreprocessor(columns=[], pipeline=None)
    imputer = SimpleImputer(
        strategy=options["imputation"],
        add_indicator=bool(options.get("add_missing_indicator", False)),
        keep_empty_features=True,
    )
    pipeline = Pipeline([("impute", imputer), ("scale", SCALERS[options["scaling"]]())])
    train = as_float_frame(train_rows, columns)
    for column in train.columns[train.isna().all().to_numpy()]:
        warn_unused_column("numerical", column)  # imputed as 0
    # Overflow is reported below as one clear error, not as numpy warnings.
    with np.errstate(over="ignore", invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        scaled = pipeline.fit_transform(train).astype(np.float32)
    finite = np.isfinite(scaled[:, : len(columns)]).all(axis=0)
    broken = [name for name, ok in zip(columns, finite, strict=True) if not ok]
    if broken:
        raise MultimodalKerasError(
            f"Scaling numerical column(s) {broken} overflows (the largest magnitude is "
            f"{np.nanmax(np.abs(train[broken].to_numpy())):.3g}); rescale them in the table, "
            "for example with a logarithm, or set numerical.scaling to robust or none."
        )
    bins = int(options.get("bins") or 0)
    if options.get("bin_edges", "quantile") == "target":
        edges = target_edges(scaled, targets, bins, int(options["bin_min_rows"]), seed)
    else:
        edges = quantile_edges(scaled, bins)
    counted = len(train_rows) if training_rows is None else int(training_rows)
    return NumericalPreprocessor(
        columns=columns, pipeline=pipeline, bin_edges=edges, training_rows=counted
    )


def quantile_edges(scaled: np.ndarray, bins: int) -> list[list[float]]:
    """Per column, the distinct quantiles that cut its values into up to ``bins`` bins."""
    if bins < 1:
        return []
    levels = np.linspace(0.0, 1.0, bins + 1)
    return [np.unique(np.quantile(column, levels)).tolist() for column in scaled.T]


def target_edges(
    scaled: np.ndarray, targets: np.ndarray | None, bins: int, min_rows: int, seed: int = 0
) -> list[list[float]]:
    """Per column, its lowest and highest value and the thresholds of a decision tree of at
    most ``bins`` leaves of ``min_rows`` rows or more that predicts ``targets`` from it.

    Regression targets (floats) grow a regression tree, class indices a classification
    tree; rows without a target (NaN, or class -1) are left out. The edges fall where the
    target changes, so the encoding spends its bins there rather than where the values are
    dense (a count that is mostly zero gets one quantile bin but several thresholds).
    """
    if targets is None:
        raise ValueError("bin_edges: target needs the training rows' targets.")
    targets = np.asarray(targets)
    regression = np.issubdtype(targets.dtype, np.floating)
    known = np.isfinite(targets) if regression else targets >= 0
    tree = (DecisionTreeRegressor if regression else DecisionTreeClassifier)(
        max_leaf_nodes=bins, min_samples_leaf=min_rows, random_state=seed
    )
    labelled, splittable = targets[known], known.sum() >= 2 * min_rows
    edges = []
    for column in scaled.T:
        ends = [column.min(), column.max()]
        if splittable:
            fitted = tree.fit(column[known, None], labelled).tree_
            ends.extend(fitted.threshold[fitted.feature >= 0])
        edges.append(np.unique(np.asarray(ends, dtype=np.float64)).tolist())
    return edges


def transform(preprocessor: NumericalPreprocessor, rows: pd.DataFrame) -> pd.DataFrame:
    """Impute and scale every row with the training statistics."""
    if preprocessor.pipeline is None:
        return encoded_frame(rows[ROW_ID], np.zeros((len(rows), 0), dtype=np.float32), [])
    values = preprocessor.pipeline.transform(as_float_frame(rows, preprocessor.columns))
    limit = float(np.finfo(np.float32).max)
    outside = np.abs(values) > limit
    if outside.any():
        logger.warning(
            "%d scaled numerical value(s) exceed float32's range and are clipped to it.",
            int(outside.sum()),
        )
    values = np.clip(values, -limit, limit).astype(np.float32)
    return encoded_frame(rows[ROW_ID], values, preprocessor.output_names)


def model_input(encoded: pd.DataFrame | np.ndarray) -> np.ndarray:
    """The scaled values as float32 (a stored float32 array as it is, not copied)."""
    if not isinstance(encoded, pd.DataFrame):
        return np.asarray(encoded, dtype=np.float32)
    return feature_values(encoded, np.float32)


def encoded_shape(preprocessor: NumericalPreprocessor) -> tuple[tuple[int, ...], np.dtype]:
    """One float32 column per output name."""
    return (len(preprocessor.output_names),), np.dtype(np.float32)


@keras.saving.register_keras_serializable(package="multimodal_keras")
class PiecewiseLinearEncoding(keras.layers.Layer):
    """Scaled values (rows, features) to their piecewise-linear encoding (rows, features, bins).

    Component ``t`` of a feature is 0 below bin ``t``, 1 above it and the position within
    it in between. With ``open_ends`` the first and last bins are unbounded, so values
    beyond the training range keep their slope (as in the paper); without, such values
    are encoded as the training range's nearest end. Features with fewer bins are padded
    with zeros.
    """

    def __init__(self, edges: list[list[float]], open_ends: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.edges = [[float(edge) for edge in column] for column in edges]
        self.open_ends = bool(open_ends)
        bins = max(max(len(column) - 1, 1) for column in self.edges)
        lefts, widths, used = [], [], []
        for distinct in self.edges:
            # A constant feature gets one unit-wide bin: its encoding is linear.
            column = distinct if len(distinct) > 1 else [distinct[0], distinct[0] + 1.0]
            count = len(column) - 1
            pad = bins - count
            lefts.append(column[:-1] + [0.0] * pad)
            widths.append(
                np.maximum(np.diff(column), np.finfo(np.float32).eps).tolist() + [1.0] * pad
            )
            used.append([1.0] * count + [0.0] * pad)
        self.bins = bins
        self.lefts = np.asarray(lefts, dtype=np.float32)
        self.widths = np.asarray(widths, dtype=np.float32)
        self.used = np.asarray(used, dtype=np.float32)
        last = self.used.sum(axis=1).astype(int) - 1
        self.first_bin = np.zeros_like(self.used)
        self.first_bin[:, 0] = 1.0
        self.last_bin = np.zeros_like(self.used)
        self.last_bin[np.arange(len(last)), last] = 1.0

    def call(self, values: tf.Tensor) -> tf.Tensor:
        position = (tf.expand_dims(values, -1) - self.lefts) / self.widths
        if not self.open_ends:
            return tf.clip_by_value(position, 0.0, 1.0) * self.used
        # Open ends: the first bin is unbounded below, the last one above.
        lower = tf.where(self.first_bin > 0, -np.inf, 0.0)
        upper = tf.where(self.last_bin > 0, np.inf, 1.0)
        return tf.clip_by_value(position, lower, upper) * self.used

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return (*input_shape, self.bins)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "edges": self.edges, "open_ends": self.open_ends}


@keras.saving.register_keras_serializable(package="multimodal_keras")
class ClipToRange(keras.layers.Layer):
    """Each feature kept within its training range (``low``, ``high`` per feature).

    Keras' layers clip to one range for all features or none; this one reads the training
    rows' own per feature.
    """

    def __init__(self, low: list[float], high: list[float], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.low, self.high = [float(v) for v in low], [float(v) for v in high]

    def call(self, values: tf.Tensor) -> tf.Tensor:
        low, high = np.asarray(self.low, np.float32), np.asarray(self.high, np.float32)
        return tf.clip_by_value(values, low, high)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "low": self.low, "high": self.high}


@keras.saving.register_keras_serializable(package="multimodal_keras")
class SmoothClip(keras.layers.Layer):
    """Scaled values ``x`` read as ``x / sqrt(1 + (x / limit)^2)``: the smooth clipping of
    RealMLP (Holzmüller, Grinsztajn and Steinwart, NeurIPS 2024).

    Nearly the identity within a standard deviation, bounded by ``limit`` beyond: at
    ``limit`` 3 a value eight deviations out reads 2.81 and one three deviations out 2.12,
    so neither a slope nor a wave extrapolates from an outlier. Keras and scikit-learn have
    no such layer.
    """

    def __init__(self, limit: float, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.limit = float(limit)

    def call(self, values: tf.Tensor) -> tf.Tensor:
        return values / tf.sqrt(1.0 + tf.square(values / self.limit))

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "limit": self.limit}


def smoothly_clipped(values: Any, limit: float) -> np.ndarray:
    """What ``SmoothClip(limit)`` computes, in float64 (for the bin edges)."""
    values = np.asarray(values, dtype=np.float64)
    return values / np.sqrt(1.0 + np.square(values / limit))


@keras.saving.register_keras_serializable(package="multimodal_keras")
class PeriodicEncoding(keras.layers.Layer):
    """Scaled values (rows, features) to ``cos`` and ``sin`` of learnt multiples of them
    (rows, features, 2 x frequencies): the periodic embeddings of Gorishniy et al. (2022).

    Each feature has ``frequencies`` trainable frequencies. Frequency ``k`` is a standard
    normal draw times a fixed scale, the scales spaced geometrically from ``low`` to
    ``high``, so every feature starts with slow and fast waves alike: a smooth feature keeps
    the slow ones, a feature whose effect changes at sharp thresholds the fast ones. (The
    paper draws all from one normal whose spread is tuned per table.) Keras has no such
    layer.
    """

    def __init__(self, frequencies: int, low: float, high: float, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.frequencies, self.low, self.high = int(frequencies), float(low), float(high)
        self.scales = np.geomspace(self.low, self.high, self.frequencies).astype(np.float32)

    def build(self, input_shape: tuple) -> None:
        self.coefficients = self.add_weight(
            name="coefficients",
            shape=(int(input_shape[-1]), self.frequencies),
            initializer=keras.initializers.RandomNormal(stddev=1.0),
        )

    def call(self, values: tf.Tensor) -> tf.Tensor:
        angles = (2.0 * np.pi) * tf.expand_dims(values, -1) * (self.coefficients * self.scales)
        return tf.concat([tf.cos(angles), tf.sin(angles)], axis=-1)

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return (*input_shape, 2 * self.frequencies)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "frequencies": self.frequencies,
            "low": self.low,
            "high": self.high,
        }


def training_range(edges: list[list[float]]) -> tuple[list[float], list[float]]:
    """Each feature's lowest and highest training value, from its bin edges."""
    return [column[0] for column in edges], [column[-1] for column in edges]


# Both encodings of each feature, concatenated before its embedding.
BOTH = "piecewise_linear_and_periodic"


def chosen_encoding(preprocessor: NumericalPreprocessor, tower: Mapping[str, Any]) -> str:
    """The tower's encoding; ``auto`` is piecewise-linear under ``both_min_rows`` training
    rows, both encodings side by side from there, periodic alone from ``periodic_min_rows``
    (fast waves need rows not to fit noise; beside the bins they pay from a few thousand).
    """
    encoding = tower.get("encoding", "none")
    if encoding != "auto":
        return encoding
    rows = getattr(preprocessor, "training_rows", 0)
    both, periodic = int(tower["both_min_rows"]), int(tower["periodic_min_rows"])
    if rows >= periodic:
        return "periodic"
    return BOTH if rows >= both else "piecewise_linear"


def chosen_smooth_clip(
    preprocessor: NumericalPreprocessor, tower: Mapping[str, Any]
) -> float | None:
    """The tower's smooth-clip limit, or ``None`` for none; ``auto`` is ``auto_smooth_clip``
    under ``periodic_min_rows`` training rows and none from there (a few outliers sway a
    small table's fit; of the large tables measured it cost three and helped one, docs/model.md).
    """
    limit = tower.get("smooth_clip")
    if limit != "auto":
        return float(limit) if limit else None
    if getattr(preprocessor, "training_rows", 0) >= int(tower["periodic_min_rows"]):
        return None
    return float(tower["auto_smooth_clip"])


def encoded_values(
    name: str,
    inputs: keras.KerasTensor,
    preprocessor: NumericalPreprocessor,
    tower: Mapping[str, Any],
) -> keras.KerasTensor:
    """The scaled values, or their piecewise-linear or periodic encoding or both side by side,
    one small embedding per feature.

    Each feature's encoding goes through its own linear layer and ReLU (``embedding_dim``
    wide), as in the paper's MLP-PLE and MLP-PLR; the embeddings are flattened for the dense
    layers.
    """
    edges = getattr(preprocessor, "bin_edges", None)
    encoding = chosen_encoding(preprocessor, tower)
    limit = chosen_smooth_clip(preprocessor, tower)
    logger.info(
        "Numerical tower: %s encoding, %s (%d training rows; model.towers.numerical: "
        "encoding %s, smooth_clip %s).",
        encoding,
        f"smoothly clipped at {limit:g}" if limit else "not clipped",
        getattr(preprocessor, "training_rows", 0),
        tower.get("encoding", "none"),
        tower.get("smooth_clip"),
    )
    if limit:
        inputs = SmoothClip(limit, name=f"{name}_smooth_clip")(inputs)
        # The clipping keeps the order, so the smoothed edges cut the same bins.
        edges = [np.unique(smoothly_clipped(column, limit)).tolist() for column in edges or []]
    if encoding == "none" or not edges:
        return inputs
    width, dim = len(edges), int(tower["embedding_dim"])
    open_ends = bool(tower.get("open_ends", False))
    encodings = []
    if encoding in ("piecewise_linear", BOTH):
        encodings.append(
            PiecewiseLinearEncoding(edges, open_ends, name=f"{name}_piecewise_linear")(inputs)
        )
    if encoding in ("periodic", BOTH):
        if not open_ends:
            inputs = ClipToRange(*training_range(edges), name=f"{name}_range")(inputs)
        slowest, fastest = tower["frequency_scales"]
        encodings.append(
            PeriodicEncoding(int(tower["frequencies"]), slowest, fastest, name=f"{name}_periodic")(
                inputs
            )
        )
    encoded = (
        encodings[0]
        if len(encodings) == 1
        else keras.layers.Concatenate(name=f"{name}_encodings")(encodings)
    )
    embedded = keras.layers.EinsumDense(
        "rfb,fbd->rfd",
        output_shape=(width, dim),
        bias_axes="fd",
        activation="relu",
        name=f"{name}_feature_embedding",
    )(encoded)
    return keras.layers.Flatten(name=f"{name}_flatten")(embedded)


def build_tower(
    name: str, preprocessor: NumericalPreprocessor, tower: Mapping[str, Any]
) -> tuple[keras.KerasTensor, keras.KerasTensor]:
    """Dense layers over the scaled values or their piecewise-linear embeddings."""
    inputs = keras.Input(shape=(len(preprocessor.output_names),), name=name, dtype="float32")
    features = encoded_values(name, inputs, preprocessor, tower)
    return inputs, dense_block(features, list(tower["units"]), float(tower["dropout"]), name)


def wide_features(
    name: str,
    inputs: keras.KerasTensor,
    preprocessor: NumericalPreprocessor,
    output_units: int,
    tower: Mapping[str, Any],
) -> keras.KerasTensor:
    """What the linear (wide) path reads: the scaled values, within their training range
    (a linear term would extrapolate without bound from a value far beyond it).
    """
    edges = getattr(preprocessor, "bin_edges", None)
    if not edges:
        return inputs
    clipped = ClipToRange(*training_range(edges), name=f"{name}_wide_range")(inputs)
    limit = chosen_smooth_clip(preprocessor, tower)
    if not limit:
        return clipped
    return SmoothClip(limit, name=f"{name}_wide_smooth_clip")(clipped)


def scaling_steps(scaler: Any, width: int) -> tuple[np.ndarray, ...]:
    """``(center, divisor, factor, shift)``: the scaler computes ``(x - c) / d * f + s``.

    Each scaler uses either the first two or the last two; the others are 0 and 1, which
    leave float64 values unchanged, so the serving graph repeats the scaler's arithmetic.
    """
    zeros, ones = np.zeros(width), np.ones(width)

    def given(values: np.ndarray | None, default: np.ndarray) -> np.ndarray:
        return default if values is None else np.asarray(values, dtype=np.float64)

    if isinstance(scaler, StandardScaler):
        return given(scaler.mean_, zeros), given(scaler.scale_, ones), ones, zeros
    if isinstance(scaler, RobustScaler):
        return given(scaler.center_, zeros), given(scaler.scale_, ones), ones, zeros
    if isinstance(scaler, MinMaxScaler) and not scaler.clip:
        return zeros, ones, given(scaler.scale_, ones), given(scaler.min_, zeros)
    if isinstance(scaler, FunctionTransformer) and scaler.func is None:
        return zeros, ones, ones, zeros
    raise ValueError(f"the serving model cannot repeat the scaler {scaler!r}")


@keras.saving.register_keras_serializable(package="multimodal_keras")
class ImputeAndScale(keras.layers.Layer):
    """Raw float64 values to the imputed, indicated and scaled float32 block of ``transform``."""

    def __init__(
        self,
        fill_values: np.ndarray,
        indicated: list[int],
        steps: tuple[np.ndarray, ...],
        **kwargs: Any,
    ) -> None:
        super().__init__(autocast=False, **kwargs)
        self.fill_values = np.asarray(fill_values, dtype=np.float64)
        self.indicated = [int(position) for position in indicated]
        self.steps = tuple(np.asarray(step, dtype=np.float64) for step in steps)

    def call(self, columns: list[tf.Tensor]) -> tf.Tensor:
        values = tf.stack([tf.cast(column, tf.float64) for column in columns], axis=1)
        missing = tf.math.is_nan(values)
        features = [tf.where(missing, tf.constant(self.fill_values), values)]
        if self.indicated:
            features.append(tf.cast(tf.gather(missing, self.indicated, axis=1), tf.float64))
        center, divisor, factor, shift = (tf.constant(step) for step in self.steps)
        scaled = (tf.concat(features, axis=1) - center) / divisor * factor + shift
        return tf.cast(scaled, tf.float32)

    def compute_output_spec(self, columns: list[keras.KerasTensor]) -> keras.KerasTensor:
        return keras.KerasTensor((columns[0].shape[0], len(self.steps[0])), dtype="float32")

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "fill_values": self.fill_values.tolist(),
            "indicated": self.indicated,
            "steps": [step.tolist() for step in self.steps],
        }


def build_serving_input(
    name: str, preprocessor: NumericalPreprocessor
) -> tuple[dict[str, keras.KerasTensor], keras.KerasTensor]:
    """One float64 input per column (NaN when missing), imputed and scaled as in training."""
    inputs = raw_inputs(preprocessor.columns, RAW_DTYPE)
    imputer = preprocessor.pipeline.named_steps["impute"]
    width = len(preprocessor.columns)
    # The values the imputer writes into missing cells, read off the imputer itself.
    missing_row = pd.DataFrame(np.full((1, width), np.nan), columns=preprocessor.columns)
    fill_values = imputer.transform(missing_row)[0, :width]
    indicated = [] if imputer.indicator_ is None else imputer.indicator_.features_.tolist()
    steps = scaling_steps(
        preprocessor.pipeline.named_steps["scale"], len(preprocessor.output_names)
    )
    layer = ImputeAndScale(fill_values, indicated, steps, name=f"{name}_serving_scaling")
    return inputs, layer(list(inputs.values()))


def describe(preprocessor: NumericalPreprocessor) -> dict[str, Any]:
    """Training statistics per column: imputation value, and scaler centre and scale."""
    if preprocessor.pipeline is None:
        return {"columns": []}
    imputer = preprocessor.pipeline.named_steps["impute"]
    scaler = preprocessor.pipeline.named_steps["scale"]
    summary: dict[str, Any] = {
        "columns": preprocessor.columns,
        "imputation_values": dict(
            zip(preprocessor.columns, map(float, imputer.statistics_), strict=True)
        ),
    }
    for attribute in ("mean_", "scale_", "center_", "data_min_", "data_max_"):
        if hasattr(scaler, attribute):
            values = getattr(scaler, attribute)
            summary[attribute.rstrip("_")] = [float(value) for value in values]
    return summary


def invalid_rows(rows: pd.DataFrame, options: Mapping[str, Any]) -> pd.Series:
    """Rows whose numerical cells hold something other than a number or a missing value."""
    reasons = pd.Series(dtype="string", index=pd.Index([], name=ROW_ID))
    for column in configured_columns(options):
        values = blank_as_missing(rows[column])
        numbers = pd.to_numeric(values, errors="coerce")
        bad = (numbers.isna() & values.notna()) | np.isinf(numbers)
        found = pd.Series(
            [f"{column}={value!r} is not a finite number" for value in values[bad]],
            index=pd.Index(rows.loc[bad, ROW_ID], name=ROW_ID),
            dtype="string",
        )
        reasons = pd.concat([reasons, found[~found.index.isin(reasons.index)]])
    return reasons


is_active = base.is_active
raw_columns = base.raw_columns


def normalise_column(column: str, values: pd.Series) -> pd.Series:
    """The column as float64 (validation has refused or dropped cells that are not numbers)."""
    return pd.to_numeric(values).astype("float64")


# The classical baseline (model/baseline.py): its own imputation and scaling of the raw columns.


def float_values(frame: pd.DataFrame) -> pd.DataFrame:
    """Raw number cells as float64, missing and blank cells as NaN."""
    return as_float_frame(frame, list(frame.columns))


baseline_columns = base.raw_column_frame


def baseline_transformers(
    columns: list[str], kind: str, params: Mapping[str, Any]
) -> list[BaselineBlock]:
    """The numbers as they are for gradient boosting (it splits on missing values), or
    missing values imputed with the training median and standardised (linear).
    """
    numbers = FunctionTransformer(float_values, feature_names_out="one-to-one")
    if kind == GRADIENT_BOOSTING:
        return [BaselineBlock(numbers, list(columns))]
    steps = Pipeline(
        [
            ("numbers", numbers),
            ("impute", SimpleImputer(strategy="median", keep_empty_features=True)),
            ("scale", StandardScaler()),
        ]
    )
    return [BaselineBlock(steps, list(columns))]


# Synthetic tables (synthetic.py): normal values, alternately linear and U-shaped effects.


def synthetic_column(
    rng: np.random.Generator, column: str, position: int, rows: int, spec: Mapping[str, Any]
) -> tuple[pd.Series, np.ndarray]:
    """Normal values at ``location`` and ``scale``; every other column's effect is U-shaped."""
    z = rng.standard_normal(rows)
    # Alternate linear and U-shaped effects so that a tower has something to learn.
    signal = z if position % 2 == 0 else (z**2 - 1.0) / np.sqrt(2.0)
    values = float(spec["location"]) + float(spec["scale"]) * z
    return pd.Series(values), float(spec["effect"]) * signal


synthetic_gaps = base.synthetic_missing


def synthetic_new_rows(
    rng: np.random.Generator, values: pd.Series, new_rows: Mapping[str, Any]
) -> pd.Series:
    """About ``missing_rate`` of the cells missing."""
    return base.synthetic_missing(rng, values, float(new_rows["missing_rate"]))
