"""Fashion-MNIST (the benchmark's split): the image tower's shape, raw weights vs EMA weights.

Reads seed 0's split and pixels from a benchmark run (data/benchmark/runs/fashion_mnist).
Arguments: seed, momenta of the averages (comma-separated), epochs. Per epoch it prints the
epoch, the learning rate, validation and test accuracy of the raw weights, then of each
average (swapped in for the two evaluations, swapped out after). The plateau schedule
watches the raw weights' validation accuracy. A fourth argument, a momentum, has the
optimizer keep its own average (Keras' `use_ema`) and write it over the weights at the end
of every epoch (`ema_overwrite_frequency` = steps per epoch), so training goes on from it."""

import sys
import time

import keras
import numpy as np
import pandas as pd
import tensorflow as tf

root = "data/benchmark/runs/fashion_mnist/data/quality/"
seed = int(sys.argv[1])
momenta = [float(m) for m in sys.argv[2].split(",")]
keras.utils.set_random_seed(seed)
tf.config.experimental.enable_op_determinism()
x = np.load(root + "04_feature/image_tensors.npy")[:, 0]
split = pd.read_parquet(root + "03_primary/split_assignments.parquet")["split"].to_numpy()
y = pd.read_parquet(root + "05_model_input/encoded_target.parquet")["target"].to_numpy()
tr, va, te = (split == s for s in ("train", "val", "test"))
steps = int(np.ceil(tr.sum() / 32))
mom = 1 - 1 / (0.5 * steps)
i = keras.Input((28, 28, 1), dtype="uint8")
h = keras.layers.Rescaling(1 / 255)(i)
for f in (32, 64, 128):
    h = keras.layers.Conv2D(f, 3, padding="same", use_bias=False)(h)
    h = keras.layers.BatchNormalization(momentum=mom)(h)
    h = keras.layers.ReLU()(h)
    if min(h.shape[1:3]) > 2:
        h = keras.layers.MaxPooling2D(padding="same")(h)
h = keras.layers.GlobalAveragePooling2D()(h)
h = keras.layers.Dropout(0.1)(h)
h = keras.layers.Dense(32, activation="relu")(h)
h = keras.layers.Dropout(0.1)(h)
h = keras.layers.Dense(128, activation="relu")(h)
h = keras.layers.Dropout(0.2)(h)
h = keras.layers.Dense(64, activation="relu")(h)
h = keras.layers.Dropout(0.2)(h)
overwrite = {}
if len(sys.argv) > 4:
    overwrite = {
        "use_ema": True,
        "ema_momentum": float(sys.argv[4]),
        "ema_overwrite_frequency": steps,
    }
model = keras.Model(i, keras.layers.Dense(10, activation="softmax")(h))
model.compile(
    keras.optimizers.AdamW(0.003, weight_decay=0.01, **overwrite),
    keras.losses.CategoricalCrossentropy(label_smoothing=0.1),
    metrics=["accuracy"],
)
Y = keras.utils.to_categorical(y, 10)
emas = {m: [tf.Variable(v, trainable=False) for v in model.trainable_variables] for m in momenta}


def acc(mask):
    return float((model.predict(x[mask], batch_size=512, verbose=0).argmax(1) == y[mask]).mean())


class Ema(keras.callbacks.Callback):
    def on_train_batch_end(self, batch, logs=None):
        for m, vs in emas.items():
            for e, v in zip(vs, model.trainable_variables, strict=False):
                e.assign(m * e + (1 - m) * v)

    def on_epoch_end(self, epoch, logs=None):
        raw = [v.numpy() for v in model.trainable_variables]
        row = [
            epoch + 1,
            float(keras.ops.convert_to_numpy(model.optimizer.learning_rate)),
            acc(va),
            acc(te),
        ]
        for _m, vs in emas.items():
            for e, v in zip(vs, model.trainable_variables, strict=False):
                v.assign(e)
            row += [acc(va), acc(te)]
            for r, v in zip(raw, model.trainable_variables, strict=False):
                v.assign(r)
        hist.append(row)
        print(" ".join(f"{c:.4f}" if isinstance(c, float) else str(c) for c in row), flush=True)


hist = []
t0 = time.time()
model.fit(
    x[tr],
    Y[tr],
    batch_size=32,
    epochs=int(sys.argv[3]),
    verbose=0,
    shuffle=True,
    validation_data=(x[va], Y[va]),
    callbacks=[Ema(), keras.callbacks.ReduceLROnPlateau("val_accuracy", 0.5, 2, min_lr=1e-5)],
)
print("seconds", time.time() - t0)
h = np.array([r for r in hist])
for k, name in enumerate(["raw"] + [f"ema{m}" for m in momenta]):
    v, t = h[:, 2 + 2 * k], h[:, 3 + 2 * k]
    # best by val with early stopping patience 6 (on that series)
    best, since, stop = 0, 0, len(v)
    for e in range(len(v)):
        if v[e] > v[best]:
            best, since = e, 0
        elif e > 0:
            since += 1
        if since >= 6:
            stop = e + 1
            break
    print(
        name,
        "best epoch",
        best + 1,
        "val",
        v[best],
        "test",
        t[best],
        "stopped",
        stop,
        "| best overall test at best val",
        t[v.argmax()],
    )
