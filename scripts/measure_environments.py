"""Run each example environment with ``kedro run --env NAME`` and print the table of
docs/environments.md: the Keras model's and the baseline's test metrics, and wall time.

Run from anywhere: ``python scripts/measure_environments.py [NAME ...]`` (default: the
demo in conf/base, then penguins, digits and tweets). The digits images must exist
(``python scripts/make_digits_images.py``). Each run overwrites the shared outputs.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from _project import project_context

PROJECT = Path(__file__).resolve().parents[1]
DEFAULT = ["base", "penguins", "digits", "tweets"]
SHOWN = ["accuracy", "balanced_accuracy", "macro_f1", "roc_auc", "log_loss"]


def run(environment: str) -> tuple[dict, int, float]:
    """Metrics, epochs trained and wall seconds of one ``kedro run``."""
    arguments = [sys.executable, "-m", "kedro", "run"]
    if environment != "base":
        arguments += ["--env", environment]
    started = time.perf_counter()
    subprocess.run(
        arguments,
        cwd=PROJECT,
        env=os.environ | {"KEDRO_DISABLE_TELEMETRY": "1", "TF_CPP_MIN_LOG_LEVEL": "3"},
        check=True,
        capture_output=True,
    )
    seconds = time.perf_counter() - started
    # Through the environment's catalog: its data folder, the latest version of each.
    with project_context(environment) as context:
        metrics = context.catalog.load("metrics")
        epochs = len(context.catalog.load("training_history")["loss"])
    return metrics, epochs, seconds


def _cell(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


def main() -> None:
    environments = sys.argv[1:] or DEFAULT
    print("| environment | test rows | predictor | " + " | ".join(SHOWN) + " | wall time |")
    print("|---|---:|---|" + "---:|" * len(SHOWN) + "---:|")
    for environment in environments:
        metrics, epochs, seconds = run(environment)
        counts = np.asarray(metrics["model"]["confusion_matrix"]).sum(axis=1)
        majority = counts.max() / counts.sum()
        baseline = metrics["baseline_estimator"]["estimator"]
        rows = [
            (f"Keras model ({epochs} epochs)", metrics["model"], f"{seconds:.0f} s"),
            (baseline, metrics["baseline"], ""),
            ("majority class", {"accuracy": majority}, ""),
        ]
        for label, values, wall in rows:
            name = environment if label.startswith("Keras") else ""
            test_rows = metrics["test_rows"] if name else ""
            cells = " | ".join(_cell(values.get(metric)) for metric in SHOWN)
            print(f"| {name} | {test_rows} | {label} | {cells} | {wall} |")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
