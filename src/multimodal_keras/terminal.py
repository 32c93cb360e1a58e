"""What a run prints: a quiet start, one line per node and per epoch, and a closing summary.

TensorFlow writes a few C++ lines to the process's standard error while it is imported
("oneDNN custom operations are on", "Could not find cuda drivers"), before its own
logging starts, so ``TF_CPP_MIN_LOG_LEVEL`` cannot silence them; they read as errors and
are not. ``quiet_tensorflow_import`` silences standard error for that import only, unless
``TF_CPP_MIN_LOG_LEVEL=0`` asks for TensorFlow's every line. TensorFlow is imported while
Kedro creates the run's context (its parameter validation imports the pipelines), before
any parameter can be read, so that switch is the environment variable; the ``verbosity``
parameter (``quiet``, the default, or ``verbose``) brings back Kedro's own lines.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import logging
import os
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from kedro.framework.hooks import hook_impl

logger = logging.getLogger(__name__)

TENSORFLOW = "tensorflow"
QUIET, VERBOSE = "quiet", "verbose"
TF_LOG_LEVEL = "TF_CPP_MIN_LOG_LEVEL"
# TensorFlow's C++ log levels: 0 shows everything, 3 only fatal errors.
TF_ALL, TF_FATAL_ONLY = "0", "3"
# Loggers quieter than INFO unless verbose (conf/logging.yml says the same): Kedro's lines
# repeat what the project's line per node says; kedro-viz warns on every partial run that
# it records no events for it.
QUIET_LEVELS = {"kedro": logging.WARNING, "kedro_viz": logging.ERROR}


@contextmanager
def standard_error_silenced() -> Iterator[None]:
    """Send file descriptor 2 (C and C++ code's standard error) to /dev/null meanwhile."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


class DroppedRecords(logging.Filter):
    """Leaves out the records whose message ``drops`` says to."""

    def __init__(self, drops: Callable[[str], bool]) -> None:
        super().__init__()
        self.drops = drops

    def filter(self, record: logging.LogRecord) -> bool:
        return not self.drops(record.getMessage())


@contextmanager
def records_dropped(logger_name: str, drops: Callable[[str], bool]) -> Iterator[None]:
    """Within it, the records of ``logger_name`` whose message ``drops`` says to are left out."""
    target = logging.getLogger(logger_name)
    dropped = DroppedRecords(drops)
    target.addFilter(dropped)
    try:
        yield
    finally:
        target.removeFilter(dropped)


class _QuietLoader(importlib.abc.Loader):
    """Runs TensorFlow's module code with standard error silenced."""

    def __init__(self, loader: Any) -> None:
        self._loader = loader

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> Any:
        return self._loader.create_module(spec)

    def exec_module(self, module: Any) -> None:
        with standard_error_silenced():
            self._loader.exec_module(module)


class QuietTensorFlowImport(importlib.abc.MetaPathFinder):
    """An import hook for the first ``import tensorflow`` only; it removes itself then.

    Python has no switch for what a library's C++ code prints while it loads, so the
    hook wraps that one import (Keras imports TensorFlow too, and is covered by it).
    """

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> Any:
        if fullname != TENSORFLOW:
            return None
        remove_quiet_import()
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is not None and spec.loader is not None:
            spec.loader = _QuietLoader(spec.loader)
        return spec


def quiet_tensorflow_import() -> None:
    """Silence TensorFlow's start-up lines, unless it is imported already."""
    if TENSORFLOW in sys.modules or any(
        isinstance(finder, QuietTensorFlowImport) for finder in sys.meta_path
    ):
        return
    sys.meta_path.insert(0, QuietTensorFlowImport())


def remove_quiet_import() -> None:
    """Let TensorFlow's next import print as it does by itself."""
    sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, QuietTensorFlowImport)]


def apply_verbosity(verbosity: str) -> None:
    """``quiet``: Kedro's INFO lines left out. ``verbose``: all of them."""
    verbose = verbosity == VERBOSE
    for name, level in QUIET_LEVELS.items():
        logging.getLogger(name).setLevel(logging.INFO if verbose else level)


class TerminalHooks:
    """The run's verbosity, and its closing summary.

    The summary says what the run trained and scored (the model's and the baseline's
    headline test metrics), where the model, the report and the predictions were written,
    and the commands that usually come next. It lists only what this run wrote.
    """

    def __init__(
        self,
        metrics_dataset: str,
        written: Mapping[str, str],
        verbosity_parameter: str = "verbosity",
    ) -> None:
        self._metrics_dataset = metrics_dataset
        self._written = dict(written)  # dataset name -> what it is, in the summary
        self._verbosity_parameter = verbosity_parameter
        self._env: str | None = None
        self._default_env: str | None = None
        self._saved: dict[str, Any] = {}
        self._started = time.perf_counter()

    @hook_impl
    def after_context_created(self, context: Any) -> None:
        self._env = getattr(context.config_loader, "run_env", None) or context.env
        self._default_env = getattr(context.config_loader, "default_run_env", None)
        verbosity = context.params.get(self._verbosity_parameter, QUIET)
        apply_verbosity(str(verbosity))

    @hook_impl
    def before_pipeline_run(self) -> None:
        self._saved, self._started = {}, time.perf_counter()

    @hook_impl
    def after_dataset_saved(self, dataset_name: str, data: Any) -> None:
        if dataset_name == self._metrics_dataset:
            self._saved[dataset_name] = data
        elif dataset_name in self._written:
            self._saved[dataset_name] = None

    @hook_impl
    def after_pipeline_run(self, catalog: Any) -> None:
        lines = summary_lines(
            time.perf_counter() - self._started,
            self._env,
            self._default_env,
            self._saved.get(self._metrics_dataset),
            {
                label: saved_path(catalog, name)
                for name, label in self._written.items()
                if name in self._saved
            },
        )
        logger.info("\n".join(lines))


def saved_path(catalog: Any, name: str) -> str:
    """Where a dataset of the catalog was saved (its latest version), from the project."""
    from multimodal_keras.integrity import artifact_path

    path = artifact_path(catalog.get(name))
    if path is None:
        return name
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def summary_lines(
    seconds: float,
    env: str | None,
    default_env: str | None,
    metrics: Mapping[str, Any] | None,
    written: Mapping[str, str],
) -> list[str]:
    """The closing summary: time, headline metrics, artifacts and next commands."""
    from multimodal_keras.model.evaluate import headline

    lines = [f"Run finished in {seconds:.0f} s" + (f" (environment {env})." if env else ".")]
    systems = [system for system in ("model", "baseline") if metrics and system in metrics]
    if systems:
        lines.append("Test metrics:")
        lines += [f"  {system:<9} {headline(metrics[system])}" for system in systems]
    if written:
        width = max(len(label) for label in written)
        lines.append("Written:")
        lines += [f"  {label:<{width}}  {path}" for label, path in written.items()]
    if systems:
        env_flag = f" --env {env}" if env and env != default_env else ""
        viz_env = f"KEDRO_ENV={env} " if env_flag else ""
        lines += [
            "Next:",
            f"  kedro run --pipelines inference{env_flag}   scores new rows (docs/inference.md)",
            f"  {viz_env}kedro viz run   shows the pipeline and its artifacts",
        ]
    return lines


def brief(description: Mapping[str, Any], limit: int = 60) -> str:
    """A description on one short line: values longer than ``limit`` characters counted.

    ``{'columns': ['a', 'b'], 'categories': {...7 columns...}}`` reads
    ``columns ['a', 'b'], categories (7 entries)``; the whole description stays at DEBUG.
    """
    parts = []
    for key, value in description.items():
        text = str(value)
        if len(text) > limit and isinstance(value, Mapping | list | tuple):
            text = f"({len(value)} {'entries' if isinstance(value, Mapping) else 'items'})"
        elif len(text) > limit:
            text = text[: limit - 1] + "…"
        parts.append(f"{key} {text}")
    return ", ".join(parts)
