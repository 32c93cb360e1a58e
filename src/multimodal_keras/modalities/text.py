"""Free-text columns: token ids from Keras' TextVectorization, vocabulary from training rows.

The vocabulary holds words and, with ``ngrams: 2``, pairs of adjacent words. The tower
reads each column's ids two ways: a TF-IDF bag of n-grams (the document frequencies are
counted on the training rows at fit time) and, beside it, the mean of the ids' learnt
embeddings. The bag is never built: each id carries its share of the column's TF-IDF
vector and a learnt table's rows are summed with those shares, which is a Dense layer
over the sparse bag at the cost of the ids alone. When ``sequence_length`` is ``auto``
each column gets its own length, a high percentile of its training texts' id counts,
capped, so that long reviews are not cut at a fixed short length and short titles do
not pay for them.

The pickled preprocessor keeps the vocabulary and the layer's settings rather than
the layer itself, so that the pipeline and an exported serving model rebuild the
very same layer from it.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

import keras
import numpy as np
import pandas as pd
import tensorflow as tf
from pydantic import Field
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer

from multimodal_keras import options
from multimodal_keras.errors import MultimodalKerasError
from multimodal_keras.modalities import base, text_scores
from multimodal_keras.modalities.base import (
    LINEAR,
    ROW_ID,
    STRING,
    BaselineBlock,
    accept_every_row,
    configured_columns,
    dense_block,
    raw_inputs,
    warn_unused_column,
)
from multimodal_keras.splitting import FittedOnTrainingRows

logger = logging.getLogger(__name__)


class Options(options.Options):
    """``text``: the columns, the vocabulary and the sequence lengths."""

    columns: list[str]
    max_tokens: Annotated[int, Field(ge=3)]
    min_document_frequency: options.Positive
    sequence_length: options.AUTO | options.Positive
    length_percentile: Annotated[float, Field(gt=0, le=100)]
    min_sequence_length: options.Positive
    max_sequence_length: options.Positive
    standardize: Literal[
        "lower_and_split_punctuation", "lower_and_strip_punctuation", "lower",
        "strip_punctuation",
    ] | None  # fmt: skip
    split: Literal["whitespace", "character"] | None
    ngrams: options.Positive | None
    characters_per_id: options.Positive
    batch_size: options.Positive
    linear_scores: bool
    score_folds: Annotated[int, Field(ge=2)]
    score_penalties: list[options.PositiveFloat]


class TowerOptions(options.Options):
    """``model.towers.text``."""

    tfidf: bool
    tfidf_dropout: options.Dropout
    table_learning_rate_factor: options.AUTO | options.PositiveFloat
    short_text_factor: options.PositiveFloat
    long_text_ids: options.Positive
    encoder: Literal["average", "conv", "none"]
    embedding_dim: options.Positive
    conv_filters: options.Positive
    kernel_size: options.Positive
    units: options.Units
    dropout: options.Dropout


RAW_DTYPE = STRING
# The fit reads the training rows' encoded targets (``linear_scores``).
READS_TARGETS = True
# Gradient boosting reads no text: any text column makes the baseline linear.
BASELINE_KINDS = frozenset({LINEAR})

PADDING_ID = 0
# Ids below this are padding and the out-of-vocabulary id: no TF-IDF weight.
FIRST_TOKEN_ID = 2
AUTO = "auto"


@keras.saving.register_keras_serializable(package="multimodal_keras")
def lower_and_split_punctuation(texts: tf.Tensor) -> tf.Tensor:
    """Lower-case any script, and split words at punctuation and symbols.

    Keras' ``lower_and_strip_punctuation`` lower-cases ASCII only and deletes ASCII
    punctuation only: "U.S.-based" becomes one word, and "“Trump’s" a word other than
    "trump". Here every run of characters that are not letters, marks, digits, ``_`` or
    white space becomes a space, which splits words as scikit-learn's default pattern does.
    """
    lowered = tf.strings.lower(texts, encoding="utf-8")
    return tf.strings.regex_replace(lowered, r"[^\pL\pM\pN_\s]+", " ")


# ``text.standardize`` names of our own, beside the ones TextVectorization knows.
STANDARDIZERS = {"lower_and_split_punctuation": lower_and_split_punctuation}


@dataclass
class TextPreprocessor(FittedOnTrainingRows):
    """The vocabulary learnt from the training rows and how text is split into tokens."""

    columns: list[str]
    vocabulary: list[str]
    sequence_length: int  # the longest column's; the encoded array's last axis
    standardize: str | None
    split: str
    ngrams: int | None
    batch_size: int
    # Inverse document frequency per id, from the training rows (0 for padding and unknown).
    idf: list[float] = field(default_factory=list)
    # Ids kept per column; ids beyond a column's length are padding.
    column_lengths: list[int] = field(default_factory=list)
    # Each text is cut to its column's length times this many characters before it is
    # tokenised, so one huge cell costs no more than a long one (0: never cut).
    characters_per_id: int = 0
    # Each column's linear prediction of the target (``text_scores``), or None.
    scores: text_scores.LinearScores | None = None

    def lengths(self) -> list[int]:
        """Ids kept per column (every column the full length when not set per column)."""
        return self.column_lengths or [self.sequence_length] * len(self.columns)

    def character_budgets(self) -> list[int]:
        """Characters read per column (0: all)."""
        return [length * self.characters_per_id for length in self.lengths()]

    def length_mask(self) -> np.ndarray:
        """(columns, sequence length): 1 where a column keeps its ids, 0 where it pads."""
        positions = np.arange(self.sequence_length)
        return (positions[None, :] < np.asarray(self.lengths())[:, None]).astype(np.int32)

    @property
    def standardizer(self) -> Any:
        """What TextVectorization's ``standardize`` takes: a Keras name or our function."""
        return STANDARDIZERS.get(self.standardize, self.standardize)

    def vectorizer(self) -> keras.layers.TextVectorization:
        """A TextVectorization layer that reproduces the fitted tokenisation."""
        return keras.layers.TextVectorization(
            standardize=self.standardizer,
            split=self.split,
            ngrams=self.ngrams,
            output_mode="int",
            output_sequence_length=self.sequence_length,
            vocabulary=self.vocabulary[2:],
        )


def as_texts(rows: pd.DataFrame, column: str, budget: int = 0) -> np.ndarray:
    """One text column as an object array of str, missing text as the empty string, each
    cut to its first ``budget`` characters when ``budget`` is set.
    """
    texts = rows[column].astype("string").fillna("")
    if budget:
        texts = texts.str.slice(0, budget)
    return texts.to_numpy(dtype=object)


def fit(
    train_rows: pd.DataFrame,
    options: Mapping[str, Any],
    training_rows: int | None = None,
    targets: np.ndarray | None = None,
    seed: int = 0,
) -> TextPreprocessor:
    """Learn one vocabulary shared by all text columns from the training rows (a sample of
    them when ``training_rows`` says there are more; the statistics are the sample's).

    With ``linear_scores`` on and the rows' encoded ``targets`` given, also fit each
    column's linear models over its TF-IDF (``text_scores``), their folds drawn by ``seed``.
    """
    columns = configured_columns(options)
    settings = {
        "standardize": options.get("standardize"),
        "split": options.get("split", "whitespace"),
        "ngrams": options.get("ngrams"),
    }
    length = options["sequence_length"]
    preprocessor = TextPreprocessor(
        columns=columns,
        vocabulary=[],
        sequence_length=int(options["max_sequence_length"]) if length == AUTO else int(length),
        batch_size=int(options["batch_size"]),
        characters_per_id=int(options["characters_per_id"]),
        **settings,
    )
    if not columns:
        return preprocessor
    layer = keras.layers.TextVectorization(
        max_tokens=int(options["max_tokens"]),
        output_mode="int",
        **settings | {"standardize": preprocessor.standardizer},
    )
    budget = preprocessor.sequence_length * preprocessor.characters_per_id
    per_column = [as_texts(train_rows, column, budget) for column in columns]
    empty = [
        column
        for column, values in zip(columns, per_column, strict=True)
        if not any(str(value).strip() for value in values)
    ]
    if len(empty) == len(columns):
        raise MultimodalKerasError(
            f"Text column(s) {empty} are empty or missing in all {len(train_rows)} training "
            "rows, so there is no word to learn; fill them in the table or remove them from "
            "text.columns."
        )
    for column in empty:
        warn_unused_column("text", column, "empty or missing")
    texts = np.concatenate(per_column)  # objects: a long text costs its own length only
    layer.adapt(tf.data.Dataset.from_tensor_slices(texts).batch(preprocessor.batch_size))
    preprocessor.vocabulary = [str(token) for token in layer.get_vocabulary()]
    frequency, counts = id_statistics(preprocessor, texts)
    kept = keep_frequent(preprocessor, frequency, int(options.get("min_document_frequency") or 1))
    if length == AUTO:
        per_column = np.split(counts, len(columns))
        width = preprocessor.sequence_length
        preprocessor.column_lengths = [
            derived_length(block, options, width) for block in per_column
        ]
        preprocessor.sequence_length = max(preprocessor.column_lengths)
    preprocessor.idf = inverse_document_frequency(frequency[kept], len(texts))
    if options.get("linear_scores") and targets is not None:
        matrices = tfidf_matrices(preprocessor, train_rows)
        preprocessor.scores = text_scores.fit(
            matrices, targets, train_rows[ROW_ID].to_numpy(), options, seed
        )
    return preprocessor


def tfidf_matrices(preprocessor: TextPreprocessor, rows: pd.DataFrame) -> list[sparse.csr_matrix]:
    """Each column's TF-IDF vectors of ``rows`` (sparse, rows by vocabulary), as the tower
    weighs its ids, encoded ``batch_size`` rows at a time."""
    idf = np.asarray(preprocessor.idf)
    blocks: list[list[sparse.csr_matrix]] = [[] for _ in preprocessor.columns]
    for start in range(0, len(rows), preprocessor.batch_size):
        ids = transform(preprocessor, rows.iloc[start : start + preprocessor.batch_size])
        for position, block in enumerate(blocks):
            block.append(text_scores.tfidf_rows(ids[:, position], idf))
    return [sparse.vstack(block, format="csr") for block in blocks]


def id_statistics(
    preprocessor: TextPreprocessor, texts: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """In how many texts each id of the vocabulary appears, and how many ids each text has
    (cut at the longest length allowed), ``batch_size`` texts at a time: memory holds one
    batch of ids, not every training text's."""
    layer = preprocessor.vectorizer()
    frequency = np.zeros(len(preprocessor.vocabulary), dtype=np.int64)
    counts = np.zeros(len(texts), dtype=np.int64)
    for start in range(0, len(texts), preprocessor.batch_size):
        ids = layer(tf.constant(texts[start : start + preprocessor.batch_size])).numpy()
        frequency += document_frequency(ids, len(frequency))
        counts[start : start + len(ids)] = (ids != PADDING_ID).sum(axis=1)
    return frequency, counts


def keep_frequent(
    preprocessor: TextPreprocessor, frequency: np.ndarray, minimum: int
) -> np.ndarray:
    """Drop from the vocabulary the n-grams in fewer than ``minimum`` training texts.

    As scikit-learn's ``min_df``: an n-gram seen in one text only cannot generalise, and
    on a small table most word pairs are such. Returns which ids of the full vocabulary
    are kept (in order, they are the shortened vocabulary's ids; a dropped n-gram reads as
    the out-of-vocabulary id, so a text's count of ids is unchanged).
    """
    kept = frequency >= minimum
    kept[:FIRST_TOKEN_ID] = True
    if kept.all():
        return kept
    if not kept[FIRST_TOKEN_ID:].any():
        logger.warning(
            "No n-gram of the text columns %s is in %d or more training texts; all %d are "
            "kept. Lower text.min_document_frequency to silence this.",
            preprocessor.columns,
            minimum,
            len(kept) - FIRST_TOKEN_ID,
        )
        return np.ones_like(kept)
    preprocessor.vocabulary = [
        token for token, keep in zip(preprocessor.vocabulary, kept, strict=True) if keep
    ]
    return kept


def derived_length(counts: np.ndarray, options: Mapping[str, Any], width: int) -> int:
    """A high percentile of one column's training id counts, within the configured bounds
    and ``width``, the longest length allowed."""
    wanted = math.ceil(float(np.percentile(counts, float(options["length_percentile"]))))
    return int(min(max(wanted, int(options["min_sequence_length"])), width))


def document_frequency(ids: np.ndarray, vocabulary_size: int) -> np.ndarray:
    """In how many texts (rows of ``ids``) each id appears."""
    ordered = np.sort(ids, axis=1)
    # Each id once per text: where a sorted row changes value.
    first = np.ones(ordered.shape, dtype=bool)
    first[:, 1:] = ordered[:, 1:] != ordered[:, :-1]
    return np.bincount(ordered[first], minlength=vocabulary_size)


def inverse_document_frequency(frequency: np.ndarray, texts: int) -> list[float]:
    """Smoothed IDF per id from its document ``frequency`` among ``texts`` texts, as
    scikit-learn's TfidfVectorizer: ln((1 + n) / (1 + df)) + 1."""
    idf = np.log((1.0 + texts) / (1.0 + frequency)) + 1.0
    idf[:FIRST_TOKEN_ID] = 0.0
    return idf.tolist()


def transform(preprocessor: TextPreprocessor, rows: pd.DataFrame) -> np.ndarray:
    """Token ids of shape (rows, text columns, sequence length), int32, 0 for padding.

    With linear scores one more row of zeros follows the columns: its first entry is the
    row's fold (``out_of_fold`` sets it; 0, the full fit, for every row it does not).
    """
    ids = np.zeros((len(rows), *encoded_shape(preprocessor)[0]), dtype=np.int32)
    if not preprocessor.columns or not len(rows):
        return ids
    layer = preprocessor.vectorizer()
    for position, (column, length, budget) in enumerate(
        zip(
            preprocessor.columns,
            preprocessor.lengths(),
            preprocessor.character_budgets(),
            strict=True,
        )
    ):
        texts = as_texts(rows, column, budget)
        for start in range(0, len(texts), preprocessor.batch_size):
            batch = texts[start : start + preprocessor.batch_size]
            ids[start : start + len(batch), position, :length] = layer(tf.constant(batch)).numpy()[
                :, :length
            ]
    return ids


def out_of_fold(preprocessor: TextPreprocessor, rows: pd.DataFrame, ids: np.ndarray) -> np.ndarray:
    """``transform``'s ids of primary-table rows with each fitted training row's fold set,
    so that its linear scores come from the models that did not see it."""
    if has_scores(preprocessor) and len(rows):
        ids[:, len(preprocessor.columns), 0] = preprocessor.scores.fold_of(rows[ROW_ID])
    return ids


def model_input(encoded: np.ndarray) -> np.ndarray:
    """Token ids as int32."""
    return np.asarray(encoded, dtype=np.int32)


def encoded_shape(preprocessor: TextPreprocessor) -> tuple[tuple[int, ...], np.dtype]:
    """(text columns, sequence length) int32 token ids per row, one more row with the fold
    when the preprocessor has linear scores."""
    rows = len(preprocessor.columns) + int(has_scores(preprocessor))
    return (rows, preprocessor.sequence_length), np.dtype(np.int32)


def has_scores(preprocessor: TextPreprocessor) -> bool:
    """Whether the model input carries a fold row and the tower reads linear scores."""
    return getattr(preprocessor, "scores", None) is not None


@keras.saving.register_keras_serializable(package="multimodal_keras")
class TfIdfShares(keras.layers.Layer):
    """Token ids (rows, columns, length) to each id's share of its column's TF-IDF vector.

    The vector is scikit-learn's ``TfidfVectorizer(sublinear_tf=True)``: term frequencies
    1 + ln count, weighted by the training rows' IDF, L2-normalised per column. An n-gram
    met k times carries a k-th of its value at each of its k positions, so summing a
    table's rows with these shares equals a Dense layer over the (never built) vector.
    """

    def __init__(self, idf: list[float], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.idf = [float(value) for value in idf]
        self._idf = np.asarray(self.idf, dtype=np.float32)

    def call(self, ids: tf.Tensor) -> tf.Tensor:
        size, length = len(self.idf), ids.shape[2]
        flat = tf.reshape(tf.cast(ids, tf.int32), (-1, length))
        counts = tf.math.bincount(flat, minlength=size, maxlength=size, axis=-1, dtype=tf.float32)
        occurrences = tf.gather(counts, flat, batch_dims=1)
        weight = (1.0 + tf.math.log(occurrences)) * tf.gather(self._idf, flat)
        norm = tf.sqrt(tf.reduce_sum(weight * weight / occurrences, axis=-1, keepdims=True))
        shares = tf.math.divide_no_nan(weight / occurrences, norm)
        return tf.reshape(shares, tf.shape(ids))

    def compute_output_spec(self, ids: keras.KerasTensor) -> keras.KerasTensor:
        return keras.KerasTensor(ids.shape, dtype="float32")

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "idf": self.idf}


@keras.saving.register_keras_serializable(package="multimodal_keras")
class WeightedBag(keras.layers.Layer):
    """Per column, the sum of a learnt table's rows at the column's ids, weighted.

    Each column has its own table (``vocabulary_size`` rows, ``units`` wide), initialised
    as a Dense kernel over the columns' concatenated bags would be; with ``shared`` all
    columns read one table, initialised as Keras' Embedding is. Keras' Embedding looks
    rows up but does not weight and sum them, and a Dense layer needs the dense bag; this
    layer reads only the ids' rows, so a step costs the ids, not the vocabulary. Output:
    (rows, columns, units), or (rows, units) summed over columns with ``sum_columns``.

    ``step_scale`` slows the table's learning: it is stored divided by the scale and read
    multiplied by it, so its initial output is unchanged while each Adam step (about the
    learning rate, whatever the gradient's size) moves the output by that share.
    """

    def __init__(
        self,
        columns: int,
        vocabulary_size: int,
        units: int,
        sum_columns: bool = False,
        shared: bool = False,
        step_scale: float = 1.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.columns, self.vocabulary_size = int(columns), int(vocabulary_size)
        self.units, self.sum_columns, self.shared = int(units), bool(sum_columns), bool(shared)
        self.step_scale = float(step_scale)

    def build(self, input_shape: Any) -> None:
        tables = 1 if self.shared else self.columns
        initializer: Any = "uniform" if self.shared else "glorot_uniform"
        if self.step_scale != 1.0:
            drawn, scale = keras.initializers.get(initializer), self.step_scale
            initializer = lambda shape, dtype=None: drawn(shape, dtype) / scale  # noqa: E731
        self.table = self.add_weight(
            shape=(tables * self.vocabulary_size, self.units), initializer=initializer, name="table"
        )

    def call(self, inputs: list[tf.Tensor]) -> tf.Tensor:
        ids, weights = inputs
        ids = tf.cast(ids, tf.int32)
        if not self.shared:
            ids += tf.range(self.columns, dtype=tf.int32)[None, :, None] * self.vocabulary_size
        rows = tf.gather(self.table, ids)
        if self.step_scale != 1.0:
            rows *= self.step_scale
        pattern = "bcl,bclu->bu" if self.sum_columns else "bcl,bclu->bcu"
        return tf.einsum(pattern, tf.cast(weights, rows.dtype), rows)

    def compute_output_spec(self, inputs: list[keras.KerasTensor]) -> keras.KerasTensor:
        rows = inputs[0].shape[0]
        shape = (rows, self.units) if self.sum_columns else (rows, self.columns, self.units)
        return keras.KerasTensor(shape, dtype="float32")

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "columns": self.columns,
            "vocabulary_size": self.vocabulary_size,
            "units": self.units,
            "sum_columns": self.sum_columns,
            "shared": self.shared,
            "step_scale": self.step_scale,
        }


@keras.saving.register_keras_serializable(package="multimodal_keras")
class TokenMeans(keras.layers.Layer):
    """Each column's share of its ids: 1 / (ids that are not padding), 0 at padding.

    With ``WeightedBag`` this is the mean of the ids' embeddings, padding left out. It takes
    no arguments of its own, so Keras' ``Layer.get_config`` (name, dtype) rebuilds it.
    """

    def call(self, ids: tf.Tensor) -> tf.Tensor:
        present = tf.cast(tf.not_equal(ids, PADDING_ID), tf.float32)
        return tf.math.divide_no_nan(present, tf.reduce_sum(present, axis=-1, keepdims=True))

    def compute_output_spec(self, ids: keras.KerasTensor) -> keras.KerasTensor:
        return keras.KerasTensor(ids.shape, dtype="float32")


def table_step_scale(preprocessor: TextPreprocessor, tower: Mapping[str, Any]) -> float:
    """The share of the learning rate the n-gram tables learn at (``WeightedBag``).

    ``auto``: ``short_text_factor`` when every column is short (its length, a high
    percentile of its training texts' ids, under ``long_text_ids``: titles, names, short
    posts, which the tables learn by heart in one pass), 1.0 beside a long text, whose
    words are the signal.
    """
    factor = tower.get("table_learning_rate_factor", 1.0)
    if factor != AUTO:
        return float(factor)
    short = max(preprocessor.lengths()) < int(tower["long_text_ids"])
    return float(tower["short_text_factor"]) if short else 1.0


def uses_tfidf(preprocessor: TextPreprocessor, tower: Mapping[str, Any]) -> bool:
    """Whether the tower reads the TF-IDF bag (it needs IDF from a fit that computed it)."""
    return bool(tower.get("tfidf", False)) and bool(getattr(preprocessor, "idf", None))


def build_tower(
    name: str, preprocessor: TextPreprocessor, tower: Mapping[str, Any]
) -> tuple[keras.KerasTensor, keras.KerasTensor]:
    """Per column, a TF-IDF bag and/or pooled embeddings of its ids, then dense layers.

    ``encoder`` is ``average`` (embedding mean), ``conv`` (1-D convolution, max pooling)
    or ``none`` (the TF-IDF bag alone, when ``tfidf`` is on).
    """
    columns, size = len(preprocessor.columns), len(preprocessor.vocabulary)
    shape, _ = encoded_shape(preprocessor)
    model_input = keras.Input(shape=shape, name=name, dtype="int32")
    inputs = token_ids(name, model_input, preprocessor)
    parts = []
    bag_on = uses_tfidf(preprocessor, tower)
    # One TF-IDF for the bag and the linear scores: the same shares feed both.
    shares = (
        TfIdfShares(preprocessor.idf, name=f"{name}_tfidf")(inputs)
        if bag_on or has_scores(preprocessor)
        else None
    )
    if bag_on:
        # Dropping n-grams at random keeps a wide bag from being memorised on few rows.
        rate = float(tower.get("tfidf_dropout", 0.0))
        dropped = (
            keras.layers.Dropout(rate, name=f"{name}_tfidf_dropout")(shares) if rate else shares
        )
        bag = WeightedBag(
            columns,
            size,
            int(tower["embedding_dim"]),
            step_scale=table_step_scale(preprocessor, tower),
            name=f"{name}_tfidf_bag",
        )([inputs, dropped])
        parts.append(keras.layers.Flatten(name=f"{name}_tfidf_flatten")(bag))
    if tower["encoder"] != "none" or not parts:
        parts.append(sequence_features(name, inputs, preprocessor, tower))
    scores = linear_scores(name, model_input, shares, preprocessor)
    if scores is not None:
        parts.append(scores)
    features = (
        parts[0] if len(parts) == 1 else keras.layers.Concatenate(name=f"{name}_paths")(parts)
    )
    output = dense_block(features, list(tower["units"]), float(tower["dropout"]), name)
    if scores is not None:
        # The scores also reach the fusion layers as they are, beside the dense layers'.
        output = keras.layers.Concatenate(name=f"{name}_with_scores")([output, scores])
    return model_input, output


def token_ids(
    name: str, model_input: keras.KerasTensor, preprocessor: TextPreprocessor
) -> keras.KerasTensor:
    """The model input's token ids, without the fold row that follows them with scores."""
    if not has_scores(preprocessor):
        return model_input
    return keras.layers.Cropping1D((0, 1), name=f"{name}_token_ids")(model_input)


def linear_scores(
    name: str,
    model_input: keras.KerasTensor,
    shares: keras.KerasTensor | None,
    preprocessor: TextPreprocessor,
) -> keras.KerasTensor | None:
    """Each column's standardised linear scores, from its TF-IDF ``shares`` (before any
    dropout) and the fold row of ``model_input``."""
    if not has_scores(preprocessor):
        return None
    scores = preprocessor.scores
    return text_scores.TextLinearScores(
        folds=scores.coefficients.shape[0] - 1,
        columns=len(preprocessor.columns),
        vocabulary_size=len(preprocessor.vocabulary),
        outputs=scores.outputs,
        log_probabilities=scores.log_probabilities,
        scores=scores,
        name=f"{name}_linear_scores",
    )([shares, model_input])


def wide_features(
    name: str,
    inputs: keras.KerasTensor,
    preprocessor: TextPreprocessor,
    output_units: int,
    tower: Mapping[str, Any],
) -> keras.KerasTensor | None:
    """What the linear (wide) path reads: the columns' TF-IDF vectors, through a learnt
    table ``output_units`` wide (a linear map of the bag as wide as the head's output).
    """
    if not getattr(preprocessor, "idf", None):
        return None
    inputs = token_ids(f"{name}_wide", inputs, preprocessor)
    shares = TfIdfShares(preprocessor.idf, name=f"{name}_wide_tfidf")(inputs)
    columns, size = len(preprocessor.columns), len(preprocessor.vocabulary)
    return WeightedBag(
        columns,
        size,
        output_units,
        sum_columns=True,
        step_scale=table_step_scale(preprocessor, tower),
        name=f"{name}_wide_bag",
    )([inputs, shares])


def sequence_features(
    name: str, inputs: keras.KerasTensor, preprocessor: TextPreprocessor, tower: Mapping[str, Any]
) -> keras.KerasTensor:
    """Per column, its ids' embeddings averaged (padding left out) or convolved and
    max-pooled; one embedding table for all text columns; flattened.
    """
    if tower["encoder"] != "conv":
        shares = TokenMeans(name=f"{name}_token_means")(inputs)
        pooled = WeightedBag(
            len(preprocessor.columns),
            len(preprocessor.vocabulary),
            int(tower["embedding_dim"]),
            shared=True,
            step_scale=table_step_scale(preprocessor, tower),
            name=f"{name}_embedding",
        )([inputs, shares])
        return keras.layers.Flatten(name=f"{name}_flatten")(pooled)
    embedded = keras.layers.Embedding(
        len(preprocessor.vocabulary), int(tower["embedding_dim"]), name=f"{name}_embedding"
    )(inputs)
    conv = keras.layers.Conv1D(
        int(tower["conv_filters"]),
        int(tower["kernel_size"]),
        activation="relu",
        padding="same",
        name=f"{name}_conv",
    )
    embedded = keras.layers.TimeDistributed(conv, name=f"{name}_conv_per_column")(embedded)
    pool = keras.layers.GlobalMaxPooling1D(name=f"{name}_pool")
    pooled = keras.layers.TimeDistributed(pool, name=f"{name}_pool_per_column")(embedded)
    return keras.layers.Flatten(name=f"{name}_flatten")(pooled)


@keras.saving.register_keras_serializable(package="multimodal_keras")
class TokenIds(keras.layers.Layer):
    """Raw texts of each column to token ids, stacked per row as ``transform`` stacks them.

    Its config holds the TextVectorization layer serialised by Keras (vocabulary and
    settings), the length mask as lists and the character budgets.
    """

    def __init__(
        self,
        vectorizer: keras.layers.TextVectorization,
        mask: np.ndarray,
        budgets: list[int],
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.vectorizer = vectorizer
        self._mask = np.asarray(mask, dtype=np.int32)
        self.budgets = [int(budget) for budget in budgets]

    def call(self, columns: list[tf.Tensor]) -> tf.Tensor:
        # Each text cut to its column's character budget, as ``transform`` cuts it.
        cut = [
            tf.strings.substr(column, 0, budget, unit="UTF8_CHAR") if budget else column
            for column, budget in zip(columns, self.budgets, strict=True)
        ]
        ids = tf.stack([self.vectorizer(column) for column in cut], axis=1)
        # Each column keeps its own number of ids, as ``transform`` cuts them.
        return tf.cast(ids, tf.int32) * self._mask

    def compute_output_spec(self, columns: list[keras.KerasTensor]) -> keras.KerasTensor:
        return keras.KerasTensor((columns[0].shape[0], *self._mask.shape), dtype="int32")

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "vectorizer": keras.saving.serialize_keras_object(self.vectorizer),
            "mask": self._mask.tolist(),
            "budgets": self.budgets,
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> TokenIds:
        vectorizer = keras.saving.deserialize_keras_object(config.pop("vectorizer"))
        return cls(vectorizer=vectorizer, **config)


def build_serving_input(
    name: str, preprocessor: TextPreprocessor
) -> tuple[dict[str, keras.KerasTensor], keras.KerasTensor]:
    """One string input per column ("" when missing), tokenised by the same rebuilt layer."""
    inputs = raw_inputs(preprocessor.columns, RAW_DTYPE)
    layer = TokenIds(
        preprocessor.vectorizer(),
        preprocessor.length_mask(),
        preprocessor.character_budgets(),
        name=f"{name}_serving_tokens",
    )
    ids = layer(list(inputs.values()))
    if has_scores(preprocessor):
        # The fold row, all zeros: a new row is scored by the full fit.
        ids = keras.layers.ZeroPadding1D((0, 1), name=f"{name}_serving_fold_row")(ids)
    return inputs, ids


def describe(preprocessor: TextPreprocessor) -> dict[str, Any]:
    """Vocabulary size, sequence length and the most frequent tokens."""
    return {
        "columns": preprocessor.columns,
        "vocabulary_size": len(preprocessor.vocabulary),
        "sequence_length": preprocessor.sequence_length,
        "column_lengths": dict(zip(preprocessor.columns, preprocessor.lengths(), strict=True)),
        "most_frequent_tokens": preprocessor.vocabulary[2:12],
        **(
            {"linear_score_penalties": score_penalties(preprocessor)}
            if has_scores(preprocessor)
            else {}
        ),
    }


def score_penalties(preprocessor: TextPreprocessor) -> dict[str, float]:
    """The L2 penalty each column's linear scores were fitted with."""
    return dict(zip(preprocessor.columns, preprocessor.scores.penalties, strict=True))


# Any value is text once it is a string.
invalid_rows = accept_every_row
is_active = base.is_active
raw_columns = base.raw_columns
normalise_column = base.strings_if_mixed


# The classical baseline (model/baseline.py): a TF-IDF of each raw text column.


def text_values(values: pd.Series) -> np.ndarray:
    """One raw text column as str, missing text as the empty string."""
    return values.astype("string").fillna("").to_numpy(dtype=object)


baseline_columns = base.raw_column_frame


def baseline_transformers(
    columns: list[str], kind: str, params: Mapping[str, Any]
) -> list[BaselineBlock]:
    """Per column, scikit-learn's TfidfVectorizer with ``params["tfidf"]`` (linear only)."""
    tfidf = dict(params["tfidf"])
    if "ngram_range" in tfidf:
        tfidf["ngram_range"] = tuple(tfidf["ngram_range"])
    return [
        BaselineBlock(
            Pipeline(
                [
                    ("texts", FunctionTransformer(text_values)),
                    ("tfidf", TfidfVectorizer(**tfidf)),
                ]
            ),
            column,
            label=column,
        )
        for column in columns
    ]


# Synthetic tables (synthetic.py): filler words with some positive or negative ones.


def synthetic_column(
    rng: np.random.Generator, column: str, position: int, rows: int, spec: Mapping[str, Any]
) -> tuple[pd.Series, np.ndarray]:
    """Sentences of filler words; a third positive, a third negative, a third neutral."""
    positive, negative = list(spec["positive_words"]), list(spec["negative_words"])
    filler = list(spec["filler_words"])
    sentiment = rng.integers(-1, 2, size=rows)
    texts = []
    for mood in sentiment:
        words = list(rng.choice(filler, size=rng.integers(*spec["filler_count"])))
        if mood:
            pool = positive if mood > 0 else negative
            words += list(rng.choice(pool, size=rng.integers(*spec["sentiment_count"])))
        rng.shuffle(words)
        texts.append(" ".join(words).capitalize() + ".")
    return pd.Series(texts, dtype="string"), float(spec["effect"]) * sentiment


synthetic_gaps = base.no_synthetic_gaps


def synthetic_new_rows(
    rng: np.random.Generator, values: pd.Series, new_rows: Mapping[str, Any]
) -> pd.Series:
    """About ``missing_rate`` of the cells emptied: half missing, half the empty string."""
    values = values.copy()
    emptied = np.flatnonzero(rng.random(len(values)) < float(new_rows["missing_rate"]))
    values.iloc[emptied[::2]] = None
    values.iloc[emptied[1::2]] = ""
    return values
