"""Seconds per epoch of a CNN of the image tower's shape, on Fashion-MNIST-sized input.

Random 28x28 grey images (7,808, batch 32: Fashion-MNIST's training rows and auto batch),
the tower's default blocks (3x3 convolution, batch normalisation, ReLU, 2x2 max pooling;
32, 64, 128 filters), global average pooling, a dense layer of 32 and ten logits; AdamW.
Four epochs; prints each epoch's seconds and the median of epochs 2 to 4.

    python cnn_speed.py VARIANT   # plain | spe | jit | det | det_jit | poolfirst | small

spe: steps_per_execution 16; jit: XLA (jit_compile=True); det: TensorFlow op determinism;
poolfirst: pooling before batch normalisation and ReLU; small: 16, 32, 64 filters.
"""

import sys
import time

import keras
import numpy as np
import tensorflow as tf


def build(filters=(32, 64, 128), pool_first=False):
    x = inp = keras.Input((28, 28, 1))
    x = keras.layers.Rescaling(1 / 255)(x)
    for f in filters:
        x = keras.layers.Conv2D(f, 3, padding="same", use_bias=False)(x)
        if pool_first:
            x = keras.layers.MaxPooling2D()(x)
        x = keras.layers.BatchNormalization()(x)
        x = keras.layers.ReLU()(x)
        if not pool_first:
            x = keras.layers.MaxPooling2D()(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    x = keras.layers.Dense(32, activation="relu")(x)
    out = keras.layers.Dense(10)(x)
    return keras.Model(inp, out)


variant = sys.argv[1]
keras.utils.set_random_seed(0)
if "det" in variant:
    tf.config.experimental.enable_op_determinism()
rng = np.random.default_rng(0)
x = rng.integers(0, 256, (7808, 28, 28, 1)).astype("float32")
y = rng.integers(0, 10, 7808)
filters = (16, 32, 64) if "small" in variant else (32, 64, 128)
model = build(filters, pool_first="poolfirst" in variant)
kw = {}
if "jit" in variant:
    kw["jit_compile"] = True
if "spe" in variant:
    kw["steps_per_execution"] = 16
loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
model.compile(keras.optimizers.AdamW(0.003, weight_decay=0.01), loss, **kw)
times = []


class T(keras.callbacks.Callback):
    def on_epoch_begin(self, e, logs=None):
        self.t = time.perf_counter()

    def on_epoch_end(self, e, logs=None):
        times.append(time.perf_counter() - self.t)


model.fit(x, y, batch_size=32, epochs=4, verbose=0, callbacks=[T()])
print(variant, " ".join(f"{t:.1f}" for t in times), "median of 2-4:", f"{np.median(times[1:]):.2f}")
