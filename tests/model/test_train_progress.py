"""Keras' progress output: a bar per epoch in a terminal, one summary line per epoch elsewhere."""

from __future__ import annotations

import contextlib
import io
import re
import sys

import keras
import numpy as np
import pytest

from multimodal_keras.model.train import progress_verbosity

PROGRESS_BAR = "━"
SUMMARY = re.compile(r"^\d+/\d+ - .* - loss: .* - val_loss: ", re.MULTILINE)
EPOCHS = 3


class Terminal(io.StringIO):
    """Captured output that says it is a terminal, as a console's stdout does."""

    def isatty(self) -> bool:
        return True


def fit_output(stream: io.StringIO, setting: str | int) -> str:
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
        )
    return stream.getvalue()


@pytest.mark.parametrize(
    ("is_terminal", "expected"), [(True, 1), (False, 2)], ids=["terminal", "pipe"]
)
def test_auto_chooses_a_progress_bar_only_for_a_terminal(monkeypatch, is_terminal, expected):
    monkeypatch.setattr(sys.stdout, "isatty", lambda: is_terminal, raising=False)
    assert progress_verbosity("auto") == expected


@pytest.mark.parametrize("setting", [0, 1, 2, "0", "2"])
def test_an_explicit_verbosity_is_kept(setting):
    assert progress_verbosity(setting) == int(setting)


def test_a_terminal_gets_a_progress_bar_in_every_epoch():
    output = fit_output(Terminal(), "auto")
    epochs = output.split("Epoch ")[1:]
    assert len(epochs) == EPOCHS
    assert all(PROGRESS_BAR in epoch for epoch in epochs)


def test_output_that_is_not_a_terminal_gets_one_summary_line_per_epoch():
    output = fit_output(io.StringIO(), "auto")
    assert PROGRESS_BAR not in output
    assert "\r" not in output
    assert len(SUMMARY.findall(output)) == EPOCHS
