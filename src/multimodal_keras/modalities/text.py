"""Free-text columns: token ids from Keras' TextVectorization, vocabulary from training rows.

The pickled preprocessor keeps the vocabulary and the layer's settings rather than
the layer itself, so that the pipeline and an exported serving model rebuild the
very same layer from it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
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
    preprocessor = TextPreprocessor(
        columns=columns,
        vocabulary=[],
        sequence_length=int(options["sequence_length"]),
        batch_size=int(options["batch_size"]),
        **settings,
    )
    if not columns:
        return preprocessor
    layer = keras.layers.TextVectorization(
        max_tokens=int(options["max_tokens"]), output_mode="int", **settings
    )
    texts = np.concatenate([as_texts(train_rows, column) for column in columns])
    layer.adapt(tf.data.Dataset.from_tensor_slices(texts.astype(str)).batch(preprocessor.batch_size))
    preprocessor.vocabulary = [str(token) for token in layer.get_vocabulary()]
    return preprocessor


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


def build_tower(
    name: str, preprocessor: TextPreprocessor, tower: Mapping[str, Any]
) -> tuple[keras.KerasTensor, keras.KerasTensor]:
    """One embedding table for all text columns, pooled per column, then dense layers."""
    shape = (len(preprocessor.columns), preprocessor.sequence_length)
    inputs = keras.Input(shape=shape, name=name, dtype="int32")
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
    flat = keras.layers.Flatten(name=f"{name}_flatten")(pooled)
    return inputs, dense_block(flat, list(tower["units"]), float(tower["dropout"]), name)


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
