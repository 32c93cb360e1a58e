"""Free-text columns: token ids from Keras' TextVectorization, vocabulary from training rows.

The vocabulary holds words and, with ``ngrams: 2``, pairs of adjacent words. The tower
reads each column's ids two ways: a TF-IDF bag of n-grams (the document frequencies are
counted on the training rows at fit time) and, beside it, the mean of the ids' learnt
embeddings. When ``sequence_length`` is ``auto`` it is a high percentile of the training
texts' id counts, capped, so that long reviews are not cut at a fixed short length.

The pickled preprocessor keeps the vocabulary and the layer's settings rather than
the layer itself, so that the pipeline and an exported serving model rebuild the
very same layer from it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import keras
import numpy as np
import pandas as pd
import tensorflow as tf

from multimodal_keras.modalities.base import (
    accept_every_row,
    configured_columns,
    dense_block,
    raw_inputs,
)

PADDING_ID = 0
# Ids below this are padding and the out-of-vocabulary id: no TF-IDF weight.
FIRST_TOKEN_ID = 2
AUTO = "auto"


@dataclass
class TextPreprocessor:
    """The vocabulary learnt from the training rows and how text is split into tokens."""

    columns: list[str]
    vocabulary: list[str]
    sequence_length: int
    standardize: str | None
    split: str
    ngrams: int | None
    batch_size: int
    # Inverse document frequency per id, from the training rows (0 for padding and unknown).
    idf: list[float] = field(default_factory=list)

    def vectorizer(self) -> keras.layers.TextVectorization:
        """A TextVectorization layer that reproduces the fitted tokenisation."""
        return keras.layers.TextVectorization(
            standardize=self.standardize,
            split=self.split,
            ngrams=self.ngrams,
            output_mode="int",
            output_sequence_length=self.sequence_length,
            vocabulary=self.vocabulary[2:],
        )


def as_texts(rows: pd.DataFrame, column: str) -> np.ndarray:
    """One text column as an object array of str, missing text as the empty string."""
    return rows[column].astype("string").fillna("").to_numpy(dtype=object)


def fit(train_rows: pd.DataFrame, options: Mapping[str, Any]) -> TextPreprocessor:
    """Learn one vocabulary shared by all text columns from the training rows."""
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
        **settings,
    )
    if not columns:
        return preprocessor
    layer = keras.layers.TextVectorization(
        max_tokens=int(options["max_tokens"]), output_mode="int", **settings
    )
    texts = np.concatenate([as_texts(train_rows, column) for column in columns]).astype(str)
    layer.adapt(tf.data.Dataset.from_tensor_slices(texts).batch(preprocessor.batch_size))
    preprocessor.vocabulary = [str(token) for token in layer.get_vocabulary()]
    # Ids of every training text, cut at the longest length allowed, for the statistics.
    ids = np.concatenate(
        [
            preprocessor.vectorizer()(
                tf.constant(texts[start : start + preprocessor.batch_size])
            ).numpy()
            for start in range(0, len(texts), preprocessor.batch_size)
        ]
    )
    if length == AUTO:
        preprocessor.sequence_length = derived_length(ids, options)
    preprocessor.idf = inverse_document_frequency(ids, len(preprocessor.vocabulary))
    return preprocessor


def derived_length(ids: np.ndarray, options: Mapping[str, Any]) -> int:
    """A high percentile of the training texts' id counts, within the configured bounds."""
    counts = (ids != PADDING_ID).sum(axis=1)
    wanted = math.ceil(float(np.percentile(counts, float(options["length_percentile"]))))
    return int(min(max(wanted, int(options["min_sequence_length"])), ids.shape[1]))


def inverse_document_frequency(ids: np.ndarray, vocabulary_size: int) -> list[float]:
    """Smoothed IDF per id, as scikit-learn's TfidfVectorizer: ln((1 + n) / (1 + df)) + 1."""
    ordered = np.sort(ids, axis=1)
    # Each id once per text: where a sorted row changes value.
    first = np.ones(ordered.shape, dtype=bool)
    first[:, 1:] = ordered[:, 1:] != ordered[:, :-1]
    frequency = np.bincount(ordered[first], minlength=vocabulary_size)
    idf = np.log((1.0 + len(ids)) / (1.0 + frequency)) + 1.0
    idf[:FIRST_TOKEN_ID] = 0.0
    return idf.tolist()


def transform(preprocessor: TextPreprocessor, rows: pd.DataFrame) -> np.ndarray:
    """Token ids of shape (rows, text columns, sequence length), int32, 0 for padding."""
    ids = np.zeros(
        (len(rows), len(preprocessor.columns), preprocessor.sequence_length), dtype=np.int32
    )
    if not preprocessor.columns or not len(rows):
        return ids
    layer = preprocessor.vectorizer()
    for position, column in enumerate(preprocessor.columns):
        texts = as_texts(rows, column).astype(str)
        for start in range(0, len(texts), preprocessor.batch_size):
            batch = texts[start : start + preprocessor.batch_size]
            ids[start : start + len(batch), position] = layer(tf.constant(batch)).numpy()
    return ids


def model_input(encoded: np.ndarray) -> np.ndarray:
    """Token ids as int32."""
    return np.asarray(encoded, dtype=np.int32)


@keras.saving.register_keras_serializable(package="multimodal_keras")
class TfIdf(keras.layers.Layer):
    """Token ids (rows, columns, length) to each column's TF-IDF vector, concatenated.

    Term frequencies are sublinear (1 + ln count), weighted by the training rows' IDF and
    L2-normalised per column, as scikit-learn's ``TfidfVectorizer(sublinear_tf=True)``.
    """

    def __init__(self, idf: list[float], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.idf = [float(value) for value in idf]
        self._idf = np.asarray(self.idf, dtype=np.float32)

    def call(self, ids: tf.Tensor) -> tf.Tensor:
        size = len(self.idf)
        columns, length = ids.shape[1], ids.shape[2]
        flat = tf.reshape(tf.cast(ids, tf.int32), (-1, length))
        counts = tf.math.bincount(flat, minlength=size, maxlength=size, axis=-1, dtype=tf.float32)
        frequency = tf.where(counts > 0, 1.0 + tf.math.log(tf.maximum(counts, 1.0)), 0.0)
        weighted = tf.math.l2_normalize(frequency * self._idf, axis=-1)
        return tf.reshape(weighted, (-1, columns * size))

    def compute_output_spec(self, ids: keras.KerasTensor) -> keras.KerasTensor:
        return keras.KerasTensor((ids.shape[0], ids.shape[1] * len(self.idf)), dtype="float32")

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "idf": self.idf}


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
    shape = (len(preprocessor.columns), preprocessor.sequence_length)
    inputs = keras.Input(shape=shape, name=name, dtype="int32")
    parts = []
    if uses_tfidf(preprocessor, tower):
        bag = TfIdf(preprocessor.idf, name=f"{name}_tfidf")(inputs)
        # Dropping n-grams at random keeps a wide bag from being memorised on few rows.
        rate = float(tower.get("tfidf_dropout", 0.0))
        parts.append(keras.layers.Dropout(rate, name=f"{name}_tfidf_dropout")(bag) if rate else bag)
    if tower["encoder"] != "none" or not parts:
        parts.append(sequence_features(name, inputs, preprocessor, tower))
    features = (
        parts[0] if len(parts) == 1 else keras.layers.Concatenate(name=f"{name}_paths")(parts)
    )
    return inputs, dense_block(features, list(tower["units"]), float(tower["dropout"]), name)


def wide_features(
    name: str, inputs: keras.KerasTensor, preprocessor: TextPreprocessor
) -> keras.KerasTensor | None:
    """What the linear (wide) path reads: each column's TF-IDF vector, when fitted."""
    if not getattr(preprocessor, "idf", None):
        return None
    return TfIdf(preprocessor.idf, name=f"{name}_wide_tfidf")(inputs)


def sequence_features(
    name: str, inputs: keras.KerasTensor, preprocessor: TextPreprocessor, tower: Mapping[str, Any]
) -> keras.KerasTensor:
    """One embedding table for all text columns, pooled per column, flattened."""
    embedded = keras.layers.Embedding(
        len(preprocessor.vocabulary), int(tower["embedding_dim"]), name=f"{name}_embedding"
    )(inputs)
    if tower["encoder"] == "conv":
        conv = keras.layers.Conv1D(
            int(tower["conv_filters"]),
            int(tower["kernel_size"]),
            activation="relu",
            padding="same",
            name=f"{name}_conv",
        )
        embedded = keras.layers.TimeDistributed(conv, name=f"{name}_conv_per_column")(embedded)
        pool = keras.layers.GlobalMaxPooling1D(name=f"{name}_pool")
    else:
        pool = keras.layers.GlobalAveragePooling1D(name=f"{name}_pool")
    pooled = keras.layers.TimeDistributed(pool, name=f"{name}_pool_per_column")(embedded)
    return keras.layers.Flatten(name=f"{name}_flatten")(pooled)


class TokenIds(keras.layers.Layer):
    """Raw texts of each column to token ids, stacked per row as ``transform`` stacks them."""

    def __init__(self, vectorizer: keras.layers.TextVectorization, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.vectorizer = vectorizer

    def call(self, columns: list[tf.Tensor]) -> tf.Tensor:
        ids = [self.vectorizer(column) for column in columns]
        return tf.cast(tf.stack(ids, axis=1), tf.int32)

    def compute_output_spec(self, columns: list[keras.KerasTensor]) -> keras.KerasTensor:
        length = self.vectorizer.get_config()["output_sequence_length"]
        return keras.KerasTensor((columns[0].shape[0], len(columns), length), dtype="int32")


def build_serving_input(
    name: str, preprocessor: TextPreprocessor
) -> tuple[dict[str, keras.KerasTensor], keras.KerasTensor]:
    """One string input per column ("" when missing), tokenised by the same rebuilt layer."""
    inputs = raw_inputs(preprocessor.columns, "string")
    layer = TokenIds(preprocessor.vectorizer(), name=f"{name}_serving_tokens")
    return inputs, layer(list(inputs.values()))


def describe(preprocessor: TextPreprocessor) -> dict[str, Any]:
    """Vocabulary size, sequence length and the most frequent tokens."""
    return {
        "columns": preprocessor.columns,
        "vocabulary_size": len(preprocessor.vocabulary),
        "sequence_length": preprocessor.sequence_length,
        "most_frequent_tokens": preprocessor.vocabulary[2:12],
    }


# Any value is text once it is a string.
invalid_rows = accept_every_row
