"""Figures of training and evaluation, as matplotlib figures for the catalog to save."""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from sklearn.metrics import ConfusionMatrixDisplay, RocCurveDisplay  # noqa: E402


def learning_curves(history: Mapping[str, list[float]]) -> Figure:
    """Each training metric beside its validation counterpart, per epoch."""
    names = [key for key in history if not key.startswith("val_")]
    figure, axes = plt.subplots(1, len(names), figsize=(4.5 * len(names), 3.5), squeeze=False)
    for axis, name in zip(axes[0], names, strict=True):
        epochs = np.arange(1, len(history[name]) + 1)
        axis.plot(epochs, history[name], label="train")
        if f"val_{name}" in history:
            axis.plot(epochs, history[f"val_{name}"], label="validation")
        axis.set_xlabel("epoch")
        axis.set_title(name)
        axis.legend()
    figure.tight_layout()
    plt.close(figure)
    return figure


def confusion_matrix(matrix: list[list[int]], labels: list) -> Figure:
    """The test confusion matrix, true classes down, predicted across."""
    figure, axis = plt.subplots(figsize=(4.5, 4))
    ConfusionMatrixDisplay(np.asarray(matrix), display_labels=[str(x) for x in labels]).plot(
        ax=axis, colorbar=False
    )
    axis.set_title("Test confusion matrix")
    figure.tight_layout()
    plt.close(figure)
    return figure


def roc_curves(y_true: np.ndarray, probabilities: np.ndarray, labels: list) -> Figure:
    """One-vs-rest ROC curve per class (the positive class only, for binary tasks)."""
    figure, axis = plt.subplots(figsize=(4.5, 4))
    shown = [1] if len(labels) == 2 else range(len(labels))
    for index in shown:
        if 0 < (y_true == index).sum() < len(y_true):
            RocCurveDisplay.from_predictions(
                y_true == index, probabilities[:, index], name=str(labels[index]), ax=axis
            )
    axis.plot([0, 1], [0, 1], linestyle=":", color="grey")
    axis.set_title("Test ROC")
    figure.tight_layout()
    plt.close(figure)
    return figure


def predicted_against_actual(actual: np.ndarray, predicted: np.ndarray) -> Figure:
    """Scatter of predicted against actual values, with the identity line."""
    figure, axis = plt.subplots(figsize=(4.5, 4))
    axis.scatter(actual, predicted, s=8, alpha=0.6)
    low, high = float(min(actual.min(), predicted.min())), float(max(actual.max(), predicted.max()))
    axis.plot([low, high], [low, high], linestyle=":", color="grey")
    axis.set_xlabel("actual")
    axis.set_ylabel("predicted")
    axis.set_title("Test predictions")
    figure.tight_layout()
    plt.close(figure)
    return figure


def modality_importance(importance: Mapping) -> Figure:
    """Mean drop of the test metric per permuted modality, with one standard deviation."""
    names = list(importance["modalities"])
    means = [importance["modalities"][name]["mean_drop"] for name in names]
    spreads = [importance["modalities"][name]["std_drop"] for name in names]
    figure, axis = plt.subplots(figsize=(1.2 * len(names) + 2.5, 3.5))
    axis.bar(names, means, yerr=spreads, capsize=4, color="tab:blue")
    axis.axhline(0.0, color="grey", linewidth=0.8)
    axis.set_ylabel(f"drop in test {importance['metric']}")
    axis.set_title(f"Modality importance: mean ± sd over {importance['repeats']} permutations")
    figure.tight_layout()
    plt.close(figure)
    return figure
