"""The seed's approach, stage by stage: its exact preprocessing calls, over the benchmark table.

The seed (a how-to on training a multi-input Keras model from one table) preprocesses
every column of every row at once in memory: ``pd.get_dummies`` for categories,
``StandardScaler().fit_transform`` for numbers, ``TextVectorization.adapt`` then a call
on the whole column for text, and for images a Python list of eager
``tf.image.decode_png`` and ``tf.image.resize`` calls stacked into one float32 tensor.
It splits with ``np.random.choice`` over the index and trains with ``model.fit`` and
``model.evaluate`` on in-memory arrays.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import tensorflow as tf
from sklearn.preprocessing import StandardScaler
from tensorflow.keras.layers import TextVectorization


def split(df: pd.DataFrame, test_fraction: float) -> tuple[np.ndarray, pd.Index]:
    """Example 3's split: a random choice of training rows, the rest for testing."""
    size = int(len(df) * (1 - test_fraction))
    train_indices = np.random.choice(df.index, size=size, replace=False)  # noqa: NPY002
    test_indices = df.index.difference(train_indices)
    return train_indices, test_indices


def categorical(df: pd.DataFrame, categorical_features: list[str]) -> pd.DataFrame:
    """Example 1: one-hot encode categorical features."""
    return pd.get_dummies(df[categorical_features])


def numerical(df: pd.DataFrame, numerical_features: list[str]) -> np.ndarray:
    """Example 1: scale numerical features."""
    scaler = StandardScaler()
    return scaler.fit_transform(df[numerical_features])


def text(df: pd.DataFrame, text_feature: str, max_tokens: int, sequence_length: int):
    """Example 2: text vectorization, adapted on the column, applied to all of it at once."""
    vectorizer = TextVectorization(max_tokens=max_tokens, output_sequence_length=sequence_length)
    vectorizer.adapt(df[text_feature])
    return vectorizer(df[text_feature].values)


def image(df: pd.DataFrame, image_feature: str, image_size: tuple[int, int]) -> tf.Tensor:
    """Example 3: decode and resize each image in a Python list, then stack into a tensor."""
    decoded_images = [tf.image.decode_png(img_bytes, channels=3) for img_bytes in df[image_feature]]
    resized_images = [tf.image.resize(img, image_size) for img in decoded_images]
    return tf.stack(resized_images)
