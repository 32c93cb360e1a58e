"""Training progress: Keras' bar per epoch in a terminal, one log line per epoch elsewhere."""

from __future__ import annotations

import contextlib
import io
import re
import sys
import warnings

import keras
import numpy as np
import pandas as pd
import pytest

from multimodal_keras.model.inputs import RowBatches
from multimodal_keras.model.train import EpochLines, as_dataset, fit_model, progress_verbosity
from multimodal_keras.targets import REGRESSION, fit_target_encoder

PROGRESS_BAR = "━"
EPOCH_LINE = re.compile(r"^epoch \d+/3: loss [\d.e-]+, val_loss [\d.e-]+ \(\d+\.\d s\)$")
EPOCHS = 3


class Terminal(io.StringIO):
    """Captured output that says it is a terminal, as a console's stdout does."""

    def isatty(self) -> bool:
        return True


def fit_output(stream: io.StringIO, setting: str | int, callbacks: list | None = None) -> str:
    """What a tiny fit prints to ``stream`` with the verbosity ``setting`` resolves to."""
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    with contextlib.redirect_stdout(stream):
        model.fit(
            np.zeros((32, 2)),
            np.zeros(32),
            batch_size=8,
            epochs=EPOCHS,
            validation_data=(np.zeros((8, 2)), np.zeros(8)),
            verbose=progress_verbosity(setting),
            callbacks=callbacks,
        )
    return stream.getvalue()


@pytest.mark.parametrize(
    ("is_terminal", "expected"), [(True, 1), (False, 0)], ids=["terminal", "pipe"]
)
def test_auto_chooses_a_progress_bar_only_for_a_terminal(monkeypatch, is_terminal, expected):
    monkeypatch.setattr(sys.stdout, "isatty", lambda: is_terminal, raising=False)
    assert progress_verbosity("auto") == expected


@pytest.mark.parametrize("setting", [0, 1, 2, "0", "2"])
def test_an_explicit_verbosity_is_kept(setting):
    assert progress_verbosity(setting) == int(setting)


@pytest.mark.integration
def test_a_terminal_gets_a_progress_bar_in_every_epoch():
    output = fit_output(Terminal(), "auto")
    epochs = output.split("Epoch ")[1:]
    assert len(epochs) == EPOCHS
    assert all(PROGRESS_BAR in epoch for epoch in epochs)


@pytest.mark.integration
def test_output_that_is_not_a_terminal_gets_one_log_line_per_epoch(caplog):
    caplog.set_level("INFO", logger="multimodal_keras.model.train")
    output = fit_output(io.StringIO(), "auto", callbacks=[EpochLines(EPOCHS)])
    assert output == ""  # Keras prints nothing: no bar, no carriage returns
    lines = [record.getMessage() for record in caplog.records]
    assert len(lines) == EPOCHS
    assert all(EPOCH_LINE.match(line) for line in lines), lines


@pytest.mark.integration
@pytest.mark.parametrize("streamed", [False, True], ids=["in_memory", "streamed"])
def test_training_knows_each_epochs_batches_and_warns_of_no_missing_data(tmp_path, streamed):
    """Keras warns that the input "ran out of data" when it must find an epoch's end by
    exhausting the rows; training gives it the count instead, in memory and streamed."""
    rows, batch_size = 40, 16
    generator = np.random.default_rng(0)
    x = generator.normal(size=(rows, 2)).astype("float32")
    y = generator.normal(size=rows).astype("float32")
    target = fit_target_encoder(pd.Series(y, name="y"), REGRESSION)
    if streamed:
        np.save(tmp_path / "x.npy", x)
        train = RowBatches({"x": np.load(tmp_path / "x.npy", mmap_mode="r")}, y, np.arange(rows))
    else:
        train = ({"x": x}, y)
    model = keras.Sequential([keras.Input((2,), name="x"), keras.layers.Dense(1)])
    params = {"epochs": 2, "batch_size": batch_size, "learning_rate": 0.01, "optimizer": "adam",
              "monitor": "auto", "learning_rate_schedule": {"kind": "constant"},
              "early_stopping_patience": 5, "verbose": 0}  # fmt: skip

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit_model(model, target, train, ({"x": x[:8]}, y[:8]), params, seed=0)

    assert not [w for w in caught if "ran out of data" in str(w.message)]
    assert int(as_dataset(train, batch_size, shuffle_seed=0).cardinality()) == 3
