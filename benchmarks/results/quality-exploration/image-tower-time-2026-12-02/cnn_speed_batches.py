"""Seconds per epoch of a CNN of the image tower's shape, by batch size and filters.

Random 28x28 grey images (7,808: Fashion-MNIST's training rows), the tower's default
blocks (3x3 convolution without bias, batch normalisation, ReLU, 2x2 max pooling), global
average pooling, a dense layer of 32 and ten logits; AdamW. Four epochs; prints each
epoch's seconds and the median of epochs 2 to 4. output.txt holds one run of

    for v in "32 32,64,128" "32 16,32,64" "64 32,64,128" "128 32,64,128" "256 32,64,128"; do
        python cnn_speed_batches.py $v
    done
    TF_ENABLE_ONEDNN_OPTS=0 python cnn_speed_batches.py 32 32,64,128   # "onednn-off"
"""

import sys
import time

import keras
import numpy as np

batch = int(sys.argv[1])
filters = [int(f) for f in sys.argv[2].split(",")]
keras.utils.set_random_seed(0)
rng = np.random.default_rng(0)
x = rng.integers(0, 256, (7808, 28, 28, 1)).astype("float32")
y = rng.integers(0, 10, 7808)
h = inputs = keras.Input((28, 28, 1))
h = keras.layers.Rescaling(1 / 255)(h)
for f in filters:
    h = keras.layers.Conv2D(f, 3, padding="same", use_bias=False)(h)
    h = keras.layers.BatchNormalization()(h)
    h = keras.layers.ReLU()(h)
    h = keras.layers.MaxPooling2D()(h)
h = keras.layers.GlobalAveragePooling2D()(h)
h = keras.layers.Dense(32, activation="relu")(h)
model = keras.Model(inputs, keras.layers.Dense(10)(h))
model.compile(
    keras.optimizers.AdamW(0.003, weight_decay=0.01),
    keras.losses.SparseCategoricalCrossentropy(from_logits=True),
)
times = []


class EpochTimes(keras.callbacks.Callback):
    def on_epoch_begin(self, epoch, logs=None):
        self.start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        times.append(time.perf_counter() - self.start)


model.fit(x, y, batch_size=batch, epochs=4, verbose=0, callbacks=[EpochTimes()])
print(
    f"batch {batch} filters {filters}",
    " ".join(f"{t:.1f}" for t in times),
    "median 2-4:",
    f"{np.median(times[1:]):.2f}",
)
