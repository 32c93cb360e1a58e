"""``RunIntegrityHooks``: one run's artifacts kept together (integrity.py)."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kedro.framework.hooks import hook_impl
from kedro.pipeline import Pipeline
from kedro.pipeline.node import Node

from multimodal_keras import integrity
from multimodal_keras.config_loader import data_folder_for
from multimodal_keras.hooks.catalog import quiet_replacements

logger = logging.getLogger("multimodal_keras.hooks")

# (artifact, version) -> the parameters that version was made with, or None if unrecorded.
MadeWith = Callable[[str, str | None], dict[str, Any] | None]


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

    def __init__(self, made_with: MadeWith | None = None) -> None:
        # The parameters an artifact version was made with (ParameterRecordHooks), if known.
        self._made_with = made_with
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
        # The lineage is written beside the model (after_dataset_saved), by no node: a run
        # that trains writes it before a later node (the report) reads it.
        if integrity.MODEL in producers:
            producers[integrity.LINEAGE] = producers[integrity.MODEL]
        problem = integrity.missing_inputs(
            reads - {integrity.LINEAGE} if integrity.MODEL in pipeline.all_outputs() else reads,
            catalog,
            producers,
        )
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
        version = model.resolve_load_version() if hasattr(model, "resolve_load_version") else None
        recorded = self._made_with(integrity.MODEL, version) if self._made_with else None
        parameters = recorded or {
            name: self._catalog.load(name)
            for name in names
            if integrity.is_parameter(name) and name in self._catalog
        }
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
        with quiet_replacements():
            chosen = bool(getattr(model, "_version", None) and model._version.load)
            check = integrity.check_lineage(record.load(), reads, catalog, model_chosen=chosen)
            if integrity.LINEAGE in reads:  # the report: the lineage of the model it reports
                catalog[integrity.LINEAGE] = record
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
