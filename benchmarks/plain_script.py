"""The whole job as one plain script: the reference the project's pipeline is timed against.

It does what ``kedro run`` does, top to bottom, with no framework: read the table,
split it (stratified, seeded), fit scikit-learn encoders, a TextVectorization
vocabulary and nothing for images on the training rows, encode every row (images
decoded and resized with TensorFlow in a parallel tf.data map), build the same Keras
model (same towers, sizes and head), train it with the same optimiser, batch size,
epochs and early stopping, score the test rows, and save the model and the metrics.
Everything stays in memory. Settings arrive as one JSON argument.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import tensorflow as tf  # noqa: E402
from sklearn.impute import SimpleImputer  # noqa: E402
from sklearn.metrics import accuracy_score, roc_auc_score  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import OneHotEncoder, StandardScaler  # noqa: E402

settings = json.loads(sys.argv[1])
output = Path(settings["output"])
output.mkdir(parents=True, exist_ok=True)
categorical, numerical = settings["categorical"], settings["numerical"]
texts, images = settings["text"], settings["image"]
towers, fusion, training = settings["towers"], settings["fusion"], settings["training"]
seed = settings["seed"]

df = pd.read_parquet(settings["table"])
y = df[settings["target"]].to_numpy(dtype=np.int32)
positions = np.arange(len(df))
rest, test = train_test_split(
    positions, test_size=settings["test_fraction"], random_state=seed, stratify=y
)
validation_share = settings["validation_fraction"] / (1 - settings["test_fraction"])
train, val = train_test_split(rest, test_size=validation_share, random_state=seed, stratify=y[rest])

x = {}
if categorical:
    values = df[categorical].astype("string").fillna("<missing>").to_numpy(dtype=object)
    encoder = OneHotEncoder(
        handle_unknown="infrequent_if_exist",
        min_frequency=settings["min_frequency"],
        sparse_output=False,
        dtype=np.float32,
    ).fit(values[train])
    x["categorical"] = encoder.transform(values).astype(np.float32)
if numerical:
    scaler = make_pipeline(
        SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True),
        StandardScaler(),
    )
    values = df[numerical].to_numpy(dtype=np.float64)
    x["numerical"] = scaler.fit(values[train]).transform(values).astype(np.float32)
if texts:
    vectorizer = keras.layers.TextVectorization(
        max_tokens=settings["max_tokens"], output_sequence_length=settings["sequence_length"]
    )
    strings = [df[column].astype("string").fillna("").to_numpy(dtype=str) for column in texts]
    vectorizer.adapt(
        tf.data.Dataset.from_tensor_slices(np.concatenate([s[train] for s in strings])).batch(4096)
    )
    x["text"] = np.stack(
        [
            np.concatenate(
                [vectorizer(tf.constant(s[i : i + 4096])).numpy() for i in range(0, len(s), 4096)]
            )
            for s in strings
        ],
        axis=1,
    ).astype(np.int32)
if images:
    height, width = settings["image_size"]

    def decode(encoded):
        image = tf.io.decode_image(encoded, channels=3, expand_animations=False)
        image = tf.image.resize(image, (height, width), antialias=True)
        image = tf.cast(tf.clip_by_value(tf.round(image), 0.0, 255.0), tf.uint8)
        image.set_shape((height, width, 3))
        return image

    x["image"] = np.stack(
        [
            np.concatenate(
                list(
                    tf.data.Dataset.from_tensor_slices(tf.constant(list(df[column])))
                    .map(decode, num_parallel_calls=tf.data.AUTOTUNE)
                    .batch(1024)
                    .as_numpy_iterator()
                )
            )
            for column in images
        ],
        axis=1,
    )


def dense(tensor, units, dropout):
    for width in units:
        tensor = keras.layers.Dense(width, activation="relu")(tensor)
        if dropout:
            tensor = keras.layers.Dropout(dropout)(tensor)
    return tensor


keras.utils.set_random_seed(seed)
inputs, outputs = {}, []
if categorical:
    inputs["categorical"] = keras.Input(shape=x["categorical"].shape[1:], name="categorical")
    tower = towers["categorical"]
    outputs.append(dense(inputs["categorical"], tower["units"], tower["dropout"]))
if numerical:
    inputs["numerical"] = keras.Input(shape=x["numerical"].shape[1:], name="numerical")
    tower = towers["numerical"]
    outputs.append(dense(inputs["numerical"], tower["units"], tower["dropout"]))
if texts:
    tower = towers["text"]
    inputs["text"] = keras.Input(shape=x["text"].shape[1:], name="text", dtype="int32")
    embedded = keras.layers.Embedding(vectorizer.vocabulary_size(), tower["embedding_dim"])(
        inputs["text"]
    )
    pooled = keras.layers.TimeDistributed(keras.layers.GlobalAveragePooling1D())(embedded)
    flat = keras.layers.Flatten()(pooled)
    outputs.append(dense(flat, tower["units"], tower["dropout"]))
if images:
    tower = towers["image"]
    inputs["image"] = keras.Input(shape=x["image"].shape[1:], name="image", dtype="uint8")
    layers = [keras.layers.Rescaling(1.0 / 255.0)]
    for filters in tower["conv_filters"]:
        layers += [
            keras.layers.Conv2D(filters, tower["kernel_size"], padding="same", use_bias=False),
            keras.layers.BatchNormalization(),
            keras.layers.Activation("relu"),
            keras.layers.MaxPooling2D(),
        ]
    layers.append(keras.layers.GlobalAveragePooling2D())
    features = keras.layers.TimeDistributed(keras.Sequential(layers))(inputs["image"])
    outputs.append(dense(keras.layers.Flatten()(features), tower["units"], tower["dropout"]))
fused = dense(keras.layers.Concatenate()(outputs), fusion["units"], fusion["dropout"])
model = keras.Model(inputs, keras.layers.Dense(1, activation="sigmoid")(fused))

model.compile(
    optimizer=keras.optimizers.Adam(learning_rate=training["learning_rate"]),
    loss="binary_crossentropy",
    metrics=[keras.metrics.BinaryAccuracy(name="accuracy"), keras.metrics.AUC(name="auc")],
)
model.fit(
    {name: values[train] for name, values in x.items()},
    y[train],
    validation_data=({name: values[val] for name, values in x.items()}, y[val]),
    batch_size=training["batch_size"],
    epochs=training["epochs"],
    callbacks=[
        keras.callbacks.EarlyStopping(
            patience=training["early_stopping_patience"], restore_best_weights=True
        )
    ],
    verbose=2,
)
probabilities = model.predict(
    {name: values[test] for name, values in x.items()}, batch_size=512, verbose=0
).reshape(-1)
metrics = {
    "accuracy": float(accuracy_score(y[test], probabilities >= 0.5)),
    "roc_auc": float(roc_auc_score(y[test], probabilities)),
    "parameters": int(model.count_params()),
}
model.save(output / "model.keras")
(output / "metrics.json").write_text(json.dumps(metrics, indent=2))
print(json.dumps(metrics))
