"""Figures of training and evaluation, as matplotlib figures for the catalog to save."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402
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


# The search of settings (tuning_trials): every trial's score, and each setting's effect.
PANELS_PER_ROW = 3
LOG_SPAN = 10.0  # positive numbers spanning this factor or more are drawn on a log axis


def scored(trials: pd.DataFrame) -> pd.DataFrame:
    """The trials that have a score (completed or stopped by the budget)."""
    return trials[trials["score"].notna()]


def metric_label(trials: pd.DataFrame) -> str:
    """``val_auc (higher is better)``, from the table's metric and direction."""
    if trials.empty:
        return "score"
    better = "higher" if trials["direction"].iloc[0] == "max" else "lower"
    return f"{trials['metric'].iloc[0]} ({better} is better)"


def tuning_scores(trials: pd.DataFrame) -> Figure:
    """Each trial's validation score in the order the trials ran, and the best so far."""
    figure, axis = plt.subplots(figsize=(6.5, 3.5))
    done = scored(trials)
    axis.scatter(done["trial"], done["score"], color="tab:blue", label="trial", zorder=3)
    if not done.empty:
        maximise = trials["direction"].iloc[0] == "max"
        best = done["score"].cummax() if maximise else done["score"].cummin()
        axis.step(done["trial"], best, where="post", color="tab:orange", label="best so far")
    failed = trials[trials["score"].isna()]
    for trial in failed["trial"]:
        axis.axvline(trial, color="tab:red", linestyle=":", linewidth=1)
    axis.xaxis.set_major_locator(MaxNLocator(integer=True))
    axis.set_xlabel("trial")
    axis.set_ylabel(metric_label(trials))
    axis.set_title(f"{len(trials)} trial(s), {len(failed)} failed (dotted)")
    axis.legend()
    figure.tight_layout()
    plt.close(figure)
    return figure


def is_numeric_setting(values: pd.Series) -> bool:
    """True for numbers other than booleans."""
    return pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)


def setting_panel(axis: Any, values: pd.Series, scores: pd.Series, name: str) -> None:
    """One setting's effect: score against value, or per category with its mean."""
    if is_numeric_setting(values):
        axis.scatter(values, scores, color="tab:blue")
        positive = values[values > 0]
        if len(positive) == len(values) and positive.max() >= LOG_SPAN * positive.min():
            axis.set_xscale("log")
    else:
        labels = [str(value) for value in values]
        categories = sorted(set(labels))
        positions = [categories.index(label) for label in labels]
        axis.scatter(positions, scores, color="tab:blue")
        for index, category in enumerate(categories):
            mean = float(np.mean([s for s, label in zip(scores, labels, strict=True)
                                  if label == category]))  # fmt: skip
            axis.hlines(mean, index - 0.3, index + 0.3, color="tab:orange")
        axis.set_xticks(range(len(categories)), categories, rotation=20)
    axis.set_title(name, fontsize="small")


def tuning_settings(trials: pd.DataFrame) -> Figure:
    """One panel per searched setting: the trials' scores against its values."""
    from multimodal_keras.search_space import setting_columns

    names = setting_columns(trials)
    done = scored(trials)
    rows = max(1, -(-len(names) // PANELS_PER_ROW))
    columns = max(1, min(PANELS_PER_ROW, len(names)))
    figure, axes = plt.subplots(
        rows, columns, figsize=(4.2 * columns, 3.2 * rows), squeeze=False, layout="constrained"
    )
    for axis in axes.flat[len(names) :]:
        axis.set_visible(False)
    for axis, name in zip(axes.flat, names, strict=False):
        setting_panel(axis, done[name], done["score"], name)
    for row in axes:
        row[0].set_ylabel(metric_label(trials))
    figure.suptitle("Each setting against the trials' scores (orange: the mean per value)")
    plt.close(figure)
    return figure
