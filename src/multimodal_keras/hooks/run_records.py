"""``RunRecordHooks``: the catalog entries marked ``run_record``, logged to the MLflow run.

kedro-mlflow (the ``mlflow`` extra) starts the MLflow run of each ``kedro run`` and logs
every parameter the nodes read; we use its hook for both. We keep our own logging of
datasets because kedro-mlflow records datasets only through its own catalog types
(``MlflowArtifactDataset`` and the metric datasets), which import mlflow, whereas the
project's catalog stays the same with or without the extra.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path, PurePosixPath
from typing import Any

from kedro.framework.hooks import hook_impl

logger = logging.getLogger("multimodal_keras.hooks")


def mlflow_installed() -> bool:
    """True when the ``mlflow`` package can be imported."""
    try:
        return importlib.util.find_spec("mlflow") is not None
    except ValueError:
        return False


def numeric_leaves(data: Any, prefix: str) -> dict[str, float]:
    """The numbers in nested mappings, keyed by their dotted path; lists and text left out."""
    if isinstance(data, Mapping):
        leaves: dict[str, float] = {}
        for key, value in data.items():
            leaves |= numeric_leaves(value, f"{prefix}.{key}")
        return leaves
    if isinstance(data, int | float) and not isinstance(data, bool):
        return {prefix: float(data)}
    return {}


class RunRecordHooks:
    """Records metrics, figures, the model and the report in the active MLflow run.

    kedro-mlflow (the ``mlflow`` extra) starts a run for each ``kedro run`` and logs the
    parameters every node reads; this hook adds what the catalog marks with
    ``metadata.run_record``: ``metrics`` (every number, and the JSON), ``history``
    (per-epoch values as steps), ``figure`` (one figure or several), ``model`` (the
    ``.keras`` file) and ``report`` (the HTML page, as a text file). Without mlflow, or
    without an active run, every method returns at once.
    """

    FILE_STORE_OPT_IN = "MLFLOW_ALLOW_FILE_STORE"

    def __init__(self) -> None:
        self._enabled = mlflow_installed()
        self._records: dict[str, tuple[str, str]] = {}

    @hook_impl(tryfirst=True)
    def after_context_created(self) -> None:
        if self._enabled:
            # MLflow 3 refuses a plain mlruns/ folder unless asked; conf/base/mlflow.yml uses one.
            os.environ.setdefault(self.FILE_STORE_OPT_IN, "true")

    @hook_impl
    def after_catalog_created(self, conf_catalog: dict[str, Any]) -> None:
        if not self._enabled:
            return
        self._records = {
            name: (entry["metadata"]["run_record"], PurePosixPath(entry["filepath"]).name)
            for name, entry in conf_catalog.items()
            if isinstance(entry, Mapping)
            and isinstance(entry.get("metadata"), Mapping)
            and "run_record" in entry["metadata"]
        }

    @hook_impl
    def after_dataset_saved(self, dataset_name: str, data: Any) -> None:
        if not self._enabled or dataset_name not in self._records:
            return
        import mlflow

        if mlflow.active_run() is None:
            return
        kind, filename = self._records[dataset_name]
        log_record(mlflow, kind, dataset_name, filename, data)


def log_record(mlflow: Any, kind: str, name: str, filename: str, data: Any) -> None:
    """Log one saved dataset to the active MLflow run, as its ``run_record`` kind says."""
    if kind == "metrics":
        mlflow.log_metrics(numeric_leaves(data, name))
        mlflow.log_dict(data, filename)
    elif kind == "history":
        for metric, values in data.items():
            for epoch, value in enumerate(values, start=1):
                mlflow.log_metric(f"{name}.{metric}", float(value), step=epoch)
    elif kind == "figure":
        shown = data if isinstance(data, Mapping) else {filename: data}
        for key, figure in shown.items():
            mlflow.log_figure(figure, f"figures/{key}")
    elif kind == "model":
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / filename
            data.save(path)
            mlflow.log_artifact(str(path), artifact_path="model")
    elif kind == "report":
        mlflow.log_text(data, filename)
    else:
        logger.warning("Unknown run_record %r for %s; it is not recorded.", kind, name)
