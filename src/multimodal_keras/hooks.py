"""Project hooks: a line per node with its shapes, time and peak memory, run records, and
where training runs.

``NodeRecordHooks`` logs, for every node, what it read and wrote (rows and shapes), its
wall time and its peak memory, and saves all of them after the run through the
catalog's ``run_timings`` entry. ``RunRecordHooks`` logs metrics, figures, the model
and the report to MLflow when the optional ``mlflow`` extra (kedro-mlflow) is installed
and has started a run; without it, it does nothing. ``DistributionHooks`` refuses
Kedro's ``ParallelRunner``, sets up the configured distribution strategy before a run
that trains loads any data, and keeps a non-chief worker's outputs off disk.
``ParameterHooks`` checks the parameters against their schema (parameters.py) first.
``RunIntegrityHooks`` keeps one run's artifacts together (integrity.py): one run at a
time per environment, inputs that exist, and the artifacts the model was trained from.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import resource
import sys
import tempfile
import threading
import time
from collections.abc import Mapping
from pathlib import Path, PurePosixPath
from typing import Any

from kedro.framework.hooks import hook_impl
from kedro.io import MemoryDataset, SharedMemoryDataCatalog
from kedro.pipeline import Pipeline
from kedro.pipeline.node import Node

from multimodal_keras import integrity
from multimodal_keras.config_loader import data_folder_for
from multimodal_keras.errors import MultimodalKerasError

logger = logging.getLogger(__name__)

CLEAR_REFS = Path("/proc/self/clear_refs")
STATUS = Path("/proc/self/status")
RESET_PEAK_RSS = "5"  # see proc(5): writing 5 to clear_refs resets the peak resident set size
KIB_PER_MIB = 1024


def reset_peak_memory() -> bool:
    """Reset the process's peak resident set size, where Linux allows it; True if it did."""
    try:
        CLEAR_REFS.write_text(RESET_PEAK_RSS)
    except OSError:
        return False
    return True


def peak_memory_mib() -> float:
    """The process's peak resident set size since the last reset (or since it started), MiB."""
    try:
        for line in STATUS.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / KIB_PER_MIB
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # ru_maxrss is in bytes on macOS and in KiB elsewhere.
    return peak / KIB_PER_MIB / (KIB_PER_MIB if sys.platform == "darwin" else 1)


def shape_of(value: Any) -> str:
    """A short description of a node's input or output: its rows and shape where it has them."""
    if value is None:
        return "nothing"  # an optional input with nothing saved yet
    if hasattr(value, "count_params") and hasattr(value, "inputs"):
        return f"model of {value.count_params():,} parameters"
    shape = getattr(value, "shape", None)
    if isinstance(shape, tuple):
        return "x".join(str(size) for size in shape)
    if isinstance(value, Mapping):
        return f"{len(value)} entries"
    if isinstance(value, str):
        return f"{len(value):,} characters"
    if isinstance(value, list | tuple):
        return f"{len(value)} items"
    return type(value).__name__


def describe_data(data: Mapping[str, Any]) -> dict[str, str]:
    """Shapes of the datasets a node read or wrote, leaving out parameters."""
    return {
        name: shape_of(value)
        for name, value in data.items()
        if not name.startswith("params:") and name != "parameters"
    }


def one_line(record: Mapping[str, Any]) -> str:
    """A node's record as the single line the log shows."""

    def listed(shapes: Mapping[str, str]) -> str:
        return ", ".join(f"{name} {shape}" for name, shape in shapes.items()) or "nothing"

    return (
        f"{record['node']}: {record['seconds']:.2f} s, peak memory "
        f"{record['peak_memory_mib']:.0f} MiB; read {listed(record['inputs'])}; "
        f"wrote {listed(record['outputs'])}."
    )


class NodeRecordHooks:
    """Time, peak memory and data shapes of every node: logged, then saved after the run.

    Peak memory is the process's peak resident set size while the node ran, reset before
    each node on Linux; elsewhere it is the process's peak so far (``peak_memory_scope``
    says which). Under a parallel runner, nodes that overlap share one process peak.
    """

    def __init__(self, timings_dataset: str) -> None:
        self._timings_dataset = timings_dataset
        self._lock = threading.Lock()
        self._started: dict[str, float] = {}
        self._records: list[dict[str, Any]] = []
        self._run_started = 0.0
        self._scope = "process"

    @hook_impl
    def before_pipeline_run(self) -> None:
        with self._lock:
            self._records, self._started = [], {}
            self._run_started = time.perf_counter()

    @hook_impl
    def before_node_run(self, node: Node) -> None:
        with self._lock:
            self._scope = "node" if reset_peak_memory() else "process"
            self._started[node.name] = time.perf_counter()

    @hook_impl
    def after_node_run(self, node: Node, inputs: dict[str, Any], outputs: dict[str, Any]) -> None:
        self._record(node, inputs, outputs, error=None)

    @hook_impl
    def on_node_error(self, error: Exception, node: Node, inputs: dict[str, Any]) -> None:
        self._record(node, inputs, {}, error=f"{type(error).__name__}: {error}")

    def _record(
        self, node: Node, inputs: dict[str, Any], outputs: dict[str, Any], error: str | None
    ) -> None:
        with self._lock:
            started = self._started.pop(node.name, time.perf_counter())
            record: dict[str, Any] = {
                "node": node.name,
                "seconds": round(time.perf_counter() - started, 3),
                "peak_memory_mib": round(peak_memory_mib(), 1),
                "inputs": describe_data(inputs),
                "outputs": describe_data(outputs),
            }
            if error:
                record["error"] = error
            self._records.append(record)
        logger.info(one_line(record))

    def timings(self) -> dict[str, Any]:
        """Every node's record so far, and the run's total wall time."""
        with self._lock:
            return {
                "total_seconds": round(time.perf_counter() - self._run_started, 3),
                "peak_memory_scope": self._scope,
                "nodes": list(self._records),
            }

    @hook_impl
    def after_pipeline_run(self, catalog: Any) -> None:
        self._save(catalog)

    @hook_impl
    def on_pipeline_error(self, catalog: Any) -> None:
        # A run refused before its first node has nothing to record; the last run's stays.
        if self._records:
            self._save(catalog)

    def _save(self, catalog: Any) -> None:
        if self._timings_dataset not in catalog:
            return
        catalog.save(self._timings_dataset, self.timings())


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
    ``.keras`` file) and ``text`` (the report). Without mlflow, or without an active run,
    every method returns at once.
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
    elif kind == "text":
        mlflow.log_text(data, filename)
    else:
        logger.warning("Unknown run_record %r for %s; it is not recorded.", kind, name)


TRAINING_PARAMETERS = "params:training"


def refuse_parallel_runner(run_params: Mapping[str, Any], catalog: Any) -> None:
    """Raise when the run uses ParallelRunner (Kedro gives it a shared-memory catalog)."""
    if isinstance(catalog, SharedMemoryDataCatalog) or "ParallelRunner" in str(
        run_params.get("runner")
    ):
        raise MultimodalKerasError(
            "ParallelRunner cannot run this project, because it runs nodes in forked "
            "processes where TensorFlow hangs once the parent process has started it and "
            "no distribution strategy can follow; run with SequentialRunner (the default) "
            "or ThreadRunner (`kedro run --runner ThreadRunner`)."
        )


class DistributionHooks:
    """Where training runs: the runner, the distribution strategy, and who writes.

    Before a run whose pipeline reads ``params:training``, it creates the configured
    strategy (model/distribute.py): TensorFlow accepts logical CPUs and the multi-worker
    strategy only before it starts, and the run starts it when it loads the untrained
    model. Under ``multi_worker``, a worker that ``TF_CONFIG`` does not name chief runs
    the same nodes with every dataset it would write replaced by an in-memory one, so
    that only the chief writes models, metrics, reports and timings.
    """

    @hook_impl
    def before_pipeline_run(
        self, run_params: dict[str, Any], pipeline: Pipeline, catalog: Any
    ) -> None:
        refuse_parallel_runner(run_params, catalog)
        if TRAINING_PARAMETERS not in pipeline.inputs():
            return
        from multimodal_keras.model import distribute

        distribution = distribute.Distribution.from_training(catalog.load(TRAINING_PARAMETERS))
        if distribution == distribute.Distribution():
            return
        strategy = distribute.prepare(distribution)
        logger.info(
            "Training with the %s strategy on %d replica(s).",
            distribution.strategy,
            strategy.num_replicas_in_sync,
        )
        if distribution.strategy == distribute.MULTI_WORKER and not distribute.is_chief():
            kept = keep_outputs_in_memory(pipeline, catalog)
            logger.info(
                "This process is %s, not the chief: the %d datasets it could write stay "
                "in memory, and the chief writes them.",
                distribute.describe_task(),
                len(kept),
            )


def keep_outputs_in_memory(pipeline: Pipeline, catalog: Any) -> list[str]:
    """Replace every dataset the run could write with an in-memory one; their names.

    The run's free inputs still load from disk; everything else (node outputs, and what
    hooks save, such as ``run_timings``) is held in memory and written nowhere.
    """
    inputs = pipeline.inputs()
    names = sorted(
        name
        for name in set(catalog.keys()) | pipeline.all_outputs()
        if name not in inputs and not integrity.is_parameter(name)
    )
    catalog_logger = logging.getLogger("kedro.io.data_catalog")
    quiet = QuietReplacements()
    catalog_logger.addFilter(quiet)  # one line says it all; not a warning per dataset
    try:
        for name in names:
            # Assigned, not copied: a Keras model does not deep-copy.
            catalog[name] = MemoryDataset(copy_mode="assign")
    finally:
        catalog_logger.removeFilter(quiet)
    return names


class QuietReplacements(logging.Filter):
    """Drops the data catalog's warning that a dataset is being replaced."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("Replacing dataset")


class ParameterHooks:
    """Checks the run's merged parameters against their schema before any node runs."""

    @hook_impl(tryfirst=True)
    def before_pipeline_run(self, catalog: Any) -> None:
        if "parameters" in catalog:
            from multimodal_keras import parameters

            parameters.check(catalog.load("parameters"))


class RunIntegrityHooks:
    """One run's artifacts belong together.

    Before a run: every input it reads but does not write exists (else one sentence
    naming the command that writes it); the environment's data folder is locked for the
    run (``integrity.RunLock``; a non-chief worker of multi-worker training writes nothing
    and takes no lock); a run that reads ``trained_model`` without training it loads the
    versioned artifacts the model was trained with and stops when an input differs from
    the model's lineage record. When a run saves ``trained_model``, that record
    (``model_lineage``, same version as the model) is written beside it.
    """

    LOCK_PARAMETERS = "params:run_lock"

    def __init__(self) -> None:
        self._lock: integrity.RunLock | None = None
        self._catalog: Any = None
        self._data_folder = Path(data_folder_for(None))

    @hook_impl
    def after_context_created(self, context: Any) -> None:
        env = getattr(context.config_loader, "run_env", None) or context.env
        self._data_folder = Path(context.project_path) / data_folder_for(env)

    @hook_impl(tryfirst=True)
    def before_pipeline_run(
        self, run_params: dict[str, Any], pipeline: Pipeline, catalog: Any
    ) -> None:
        from kedro.framework.project import pipelines

        self._catalog = catalog
        reads = pipeline.inputs()
        full = pipelines.get("__default__") or pipeline
        producers = {output: node.name for node in full.nodes for output in node.outputs}
        problem = integrity.missing_inputs(reads, catalog, producers)
        if problem is not None:
            raise problem
        if writes_nothing():
            return
        self._lock = integrity.RunLock(self._data_folder)
        self._lock.acquire(wait_seconds=self._wait_seconds(catalog))
        try:
            if integrity.MODEL in reads:
                self._use_model_lineage(reads, catalog)
        except BaseException:
            self._release()
            raise

    @hook_impl
    def after_dataset_saved(self, dataset_name: str, data: Any, node: Node) -> None:
        if dataset_name != integrity.MODEL or self._catalog is None:
            return
        model = self._catalog.get(integrity.MODEL)
        if integrity.artifact_path(model) is None or self._catalog.get(integrity.LINEAGE) is None:
            return  # held in memory (a non-chief worker): nothing on disk to trace
        from kedro.framework.project import pipelines

        upstream = (pipelines.get("__default__") or Pipeline([node])).to_outputs(integrity.MODEL)
        # What the model derives from, and what the nodes before training wrote beside it
        # (the missing-value markers validation applied); not the training node's siblings.
        names = upstream.all_inputs() | (upstream.all_outputs() - set(node.outputs))
        datasets = {
            name: self._catalog.get(name) for name in names if not integrity.is_parameter(name)
        }
        artifacts = {
            name: record
            for name, dataset in datasets.items()
            if dataset is not None and (record := integrity.record_of(dataset)) is not None
        }
        parameters = {
            name: self._catalog.load(name)
            for name in names
            if integrity.is_parameter(name) and name in self._catalog
        }
        version = model.resolve_load_version() if hasattr(model, "resolve_load_version") else None
        self._catalog.save(
            integrity.LINEAGE, integrity.lineage_record(version, artifacts, parameters)
        )

    @hook_impl(trylast=True)  # after the other hooks' last saves
    def after_pipeline_run(self) -> None:
        self._release()

    @hook_impl(trylast=True)
    def on_pipeline_error(self) -> None:
        self._release()

    def _release(self) -> None:
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def _wait_seconds(self, catalog: Any) -> float:
        if self.LOCK_PARAMETERS not in catalog:
            return 0.0
        return float(catalog.load(self.LOCK_PARAMETERS)["wait_seconds"])

    def _use_model_lineage(self, reads: set[str], catalog: Any) -> None:
        """Load the model's own artifacts; stop when one differs from its lineage record."""
        from kedro.io.core import Version

        model = catalog.get(integrity.MODEL)
        if not hasattr(model, "resolve_load_version"):
            return
        version = model.resolve_load_version()
        record = catalog.get(integrity.LINEAGE, version=Version(version, None))
        if record is None or not record.exists():
            logger.warning(
                "The model %s has no lineage record (%s): it was trained before lineage "
                "was recorded, so its preprocessors and features cannot be checked; "
                "retrain with `kedro run` to record it.",
                version,
                integrity.LINEAGE,
            )
            return
        quiet = QuietReplacements()
        catalog_logger = logging.getLogger("kedro.io.data_catalog")
        catalog_logger.addFilter(quiet)
        try:
            chosen = bool(getattr(model, "_version", None) and model._version.load)
            check = integrity.check_lineage(record.load(), reads, catalog, model_chosen=chosen)
        finally:
            catalog_logger.removeFilter(quiet)
        if check.problem is not None:
            raise check.problem
        for name, newer in sorted(check.newer.items()):
            logger.info(
                "`%s` has a newer version (%s) than the one the model %s was trained with "
                "(%s); the model's own is used, as --load-versions asked. To use the newer "
                "one, retrain: `kedro run --from-nodes train_model`.",
                name,
                newer,
                version,
                check.pinned[name],
            )
        if check.pinned:
            logger.info(
                "Using the artifacts the model %s was trained with: %s.",
                version,
                ", ".join(f"{name} {pinned}" for name, pinned in sorted(check.pinned.items())),
            )


def writes_nothing() -> bool:
    """True in a multi-worker training process that is not the chief: it writes no file."""
    if not os.environ.get("TF_CONFIG"):
        return False
    from multimodal_keras.model import distribute

    return not distribute.is_chief()


TUNED_PARAMETERS = "tuned_parameters"  # the catalog's entry of the search's result
SEARCHED_BLOCKS = ("model", "training")


class TunedParameterHooks:
    """The search's parameters, before any node runs: its space checked, its result used.

    A run that reads ``params:tuning`` (``kedro run --pipelines tuning``) has every entry of
    the search space checked against the parameter it sets (search_space.py), so that a bad
    entry stops it with one sentence before any data loads. A run with
    ``training.use_tuned`` true trains with the latest ``tuned_parameters`` (or the version
    ``--load-versions`` names): its settings replace the configured ones, except those
    given with ``--params``, in ``parameters`` and in every ``params:`` entry; the merged
    parameters are checked again, and ``parameters["tuned_parameters"]`` records the
    version and the settings for metrics.json and the run report. With ``use_tuned``
    false the run's parameters are left exactly as they are.
    """

    @hook_impl(tryfirst=True)
    def before_pipeline_run(
        self, run_params: dict[str, Any], pipeline: Pipeline, catalog: Any
    ) -> None:
        if "parameters" not in catalog:
            return
        from multimodal_keras import search_space

        params = catalog.load("parameters")
        reads = pipeline.inputs()
        if "params:tuning" in reads and isinstance(params.get("tuning"), Mapping):
            search_space.check_space(params["tuning"]["space"], params["model"], params["training"])
        if not (params.get("training") or {}).get("use_tuned") or not reads_searched(reads):
            return
        record = load_tuned(catalog, run_params)
        given = set(search_space.flattened(run_params.get("runtime_params") or {}))
        settings = {path: value for path, value in record["settings"].items() if path not in given}
        merged = merged_parameters(params, settings, record["version"])
        merged[search_space.TUNED_RECORD] = {"version": record["version"], "settings": settings}
        replace_parameters(catalog, merged)
        logger.info(
            "Training with the tuned settings of `%s` %s: %s.",
            TUNED_PARAMETERS,
            record["version"],
            ", ".join(f"{path} {value!r}" for path, value in settings.items()) or "none",
        )


def reads_searched(reads: set[str]) -> bool:
    """True when a pipeline reads the parameters a search sets (model, training)."""
    return "parameters" in reads or any(
        name == f"params:{block}" or name.startswith(f"params:{block}.")
        for name in reads
        for block in SEARCHED_BLOCKS
    )


def load_tuned(catalog: Any, run_params: Mapping[str, Any]) -> dict[str, Any]:
    """The latest (or chosen) ``tuned_parameters``: its version and its dotted settings."""
    from multimodal_keras.search_space import flattened

    dataset = catalog.get(TUNED_PARAMETERS)
    env = run_params.get("env")
    env_flag = f" --env {env}" if env and env not in ("local", "base") else ""
    if dataset is None or not dataset.exists():
        where = "not in the catalog" if dataset is None else integrity.describe_location(dataset)
        raise MultimodalKerasError(
            f"training.use_tuned is true, but `{TUNED_PARAMETERS}` has not been written yet "
            f"({where}): search first with `kedro run --pipelines tuning{env_flag}`, or run "
            "without `--params training.use_tuned=true`."
        )
    version = dataset.resolve_load_version() if hasattr(dataset, "resolve_load_version") else None
    return {"version": version, "settings": flattened(dataset.load() or {})}


def merged_parameters(
    params: Mapping[str, Any], settings: Mapping[str, Any], version: str | None
) -> dict[str, Any]:
    """The run's parameters with the tuned settings in place, checked against the schema."""
    from multimodal_keras import parameters, search_space

    for path in settings:
        found, _ = search_space.lookup(params, path)
        if not found or path.split(".", maxsplit=1)[0] not in SEARCHED_BLOCKS:
            raise MultimodalKerasError(
                f"`{TUNED_PARAMETERS}` {version} sets `{path}`, which is not a model or "
                "training parameter of this project; search again with `kedro run "
                "--pipelines tuning`, or run without `--params training.use_tuned=true`."
            )
    merged = search_space.with_settings(params, settings)
    problems = parameters.problems(merged)
    if problems:
        raise MultimodalKerasError(
            f"The settings of `{TUNED_PARAMETERS}` {version} do not fit this project's "
            f"parameters ({'; '.join(problems)}); search again with `kedro run --pipelines "
            "tuning`, or run without `--params training.use_tuned=true`."
        )
    return merged


def replace_parameters(catalog: Any, merged: Mapping[str, Any]) -> None:
    """Put ``merged`` in the catalog: ``parameters`` and every ``params:`` entry it changes."""
    from multimodal_keras.search_space import lookup

    quiet = QuietReplacements()
    catalog_logger = logging.getLogger("kedro.io.data_catalog")
    catalog_logger.addFilter(quiet)
    try:
        catalog["parameters"] = dict(merged)
        names = [name for name in list(catalog.keys()) if name.startswith("params:")]
        for name in names:
            found, value = lookup(merged, name.removeprefix("params:"))
            if found and value != catalog.load(name):
                catalog[name] = value
    finally:
        catalog_logger.removeFilter(quiet)
