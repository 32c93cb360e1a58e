"""``ParameterRecordHooks``: the parameters each artifact was made with, kept beside it.

A partial rerun (``--from-nodes``, ``--namespaces``, ``--nodes``) reuses artifacts that an
earlier run wrote with that run's parameters. Each artifact a node saves is recorded with
the parameters that node read and those its input artifacts were made with, in the
catalog's ``parameter_records`` (one JSON file per environment, each distinct value stored
once). So:

- a run that reuses an artifact made with other values of a parameter than its own says
  so before its first node, with the command that applies its own values;
- the model's lineage records the parameters the model was made with (``integrity``),
  and the run report shows those, not the run's.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from kedro.framework.hooks import hook_impl
from kedro.io import MemoryDataset
from kedro.io.core import AbstractVersionedDataset, DatasetError
from kedro.pipeline import Pipeline
from kedro.pipeline.node import Node

from multimodal_keras.integrity import is_parameter, value_digest
from multimodal_keras.parameters import differences

logger = logging.getLogger("multimodal_keras.hooks")

RECORDS = "parameter_records"
UNVERSIONED = "unversioned"
# The whole parameter tree some nodes read (collect_metrics, the report) is not recorded:
# each section is, through the nodes that read it.
WHOLE = "parameters"


def empty_records() -> dict[str, Any]:
    """Records of no artifact: each value by its SHA-256, each artifact's reads by version."""
    return {"values": {}, "artifacts": {}}


def artifact_reads(
    records: Mapping[str, Any], name: str, version: str | None
) -> dict[str, tuple[Any, str]] | None:
    """Per parameter, the value one version of an artifact was made with and when a node
    read it; None when that version is not recorded."""
    entry = records.get("artifacts", {}).get(name, {}).get(version or UNVERSIONED)
    if entry is None:
        return None
    values = records.get("values", {})
    return {
        parameter: (values[read["value"]], read["read"])
        for parameter, read in entry.items()
        if read["value"] in values
    }


def artifact_parameters(
    records: Mapping[str, Any], name: str, version: str | None
) -> dict[str, Any] | None:
    """The parameters one version of an artifact was made with; None when not recorded."""
    reads = artifact_reads(records, name, version)
    return None if reads is None else {parameter: value for parameter, (value, _) in reads.items()}


def add_artifact(
    records: dict[str, Any], name: str, version: str | None, reads: Mapping[str, tuple[Any, str]]
) -> None:
    """Record the parameters one version of an artifact was made with (in place)."""
    entry = {}
    for parameter, (value, read) in sorted(reads.items()):
        key = value_digest(value)
        records["values"].setdefault(key, value)
        entry[parameter] = {"value": key, "read": read}
    records["artifacts"].setdefault(name, {})[version or UNVERSIONED] = entry


def latest_reads(*reads: Mapping[str, tuple[Any, str]]) -> dict[str, tuple[Any, str]]:
    """Per parameter, the value read last. An artifact made from others that earlier runs
    wrote with other values of a parameter (a namespace rerun since) is recorded with the
    latest: the one the user last applied."""
    merged: dict[str, tuple[Any, str]] = {}
    for each in reads:
        for parameter, (value, read) in each.items():
            if parameter not in merged or read >= merged[parameter][1]:
                merged[parameter] = (value, read)
    return merged


def shown_name(parameter: str) -> str:
    """``params:text`` as ``text``, the name the parameter files and ``--params`` use."""
    return parameter.removeprefix("params:")


def loaded_version(dataset: Any) -> str | None:
    """The version a run reads of a versioned dataset (the latest, or the one pinned)."""
    if not isinstance(dataset, AbstractVersionedDataset):
        return None
    try:
        return dataset.resolve_load_version()
    except DatasetError:  # no version on disk: nothing recorded to compare
        return None


def saved_version(dataset: Any) -> str | None:
    """The version a run saves of a versioned dataset."""
    return dataset.resolve_save_version() if isinstance(dataset, AbstractVersionedDataset) else None


class ParameterRecordHooks:
    """Records the parameters behind every saved artifact and compares them on reuse."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._records: dict[str, Any] = empty_records()
        self._pending: dict[str, dict[str, Any]] = {}
        # Datasets held in memory for one run: their reads, for the nodes that read them.
        self._transient: dict[str, dict[str, tuple[Any, str]]] = {}
        self._catalog: Any = None
        self._active = False
        self._unsaved = False

    @hook_impl(trylast=True)  # after the lineage's pins and the tuned settings are in place
    def before_pipeline_run(self, pipeline: Pipeline, catalog: Any) -> None:
        from kedro.framework.project import pipelines

        from multimodal_keras.hooks.run_integrity import writes_nothing

        self._catalog, self._pending, self._transient = catalog, {}, {}
        self._unsaved = False
        self._active = RECORDS in catalog and not writes_nothing()
        if not self._active:
            return
        dataset = catalog.get(RECORDS)
        self._records = dataset.load() if dataset.exists() else empty_records()
        full = pipelines.get("__default__") or pipeline
        warn_on_reuse(self._records, pipeline, full, catalog)

    @hook_impl
    def before_node_run(self, node: Node, catalog: Any, inputs: dict[str, Any]) -> None:
        if not self._active:
            return
        self._save()  # what the nodes before this one saved
        upstream = []
        for name in node.inputs:
            if is_parameter(name) or name == WHOLE:
                continue
            with self._lock:
                if name in self._transient:
                    upstream.append(self._transient[name])
                    continue
                dataset = catalog.get(name) if name in catalog else None
                upstream.append(artifact_reads(self._records, name, loaded_version(dataset)) or {})
        now = datetime.now(UTC).isoformat()
        own = {
            name: (inputs[name], now)
            for name in node.inputs
            if is_parameter(name) and name != WHOLE
        }
        with self._lock:
            self._pending[node.name] = latest_reads(*upstream, own)

    @hook_impl(tryfirst=True)  # before the lineage asks for the model's record
    def after_dataset_saved(self, dataset_name: str, node: Node) -> None:
        if not self._active:
            return
        dataset = self._catalog.get(dataset_name) if dataset_name in self._catalog else None
        with self._lock:
            reads = self._pending.get(node.name, {})
            if dataset is None or isinstance(dataset, MemoryDataset):
                self._transient[dataset_name] = reads
                return
            add_artifact(self._records, dataset_name, saved_version(dataset), reads)
            self._unsaved = True

    # Kedro saves a node's outputs after its after_node_run: the records are written before
    # the next node, and at the run's end, whether it ends well or not.
    @hook_impl
    def after_pipeline_run(self) -> None:
        self._save()

    @hook_impl
    def on_pipeline_error(self) -> None:
        self._save()

    def _save(self) -> None:
        """The records to the catalog, when artifacts were saved since the last write."""
        with self._lock:
            if self._active and self._unsaved:
                self._catalog.save(RECORDS, self._records)
                self._unsaved = False

    def parameters_of(self, name: str, version: str | None) -> dict[str, Any] | None:
        """The parameters one version of an artifact was made with, as recorded so far
        (the model's, for its lineage, saved before this node's records are)."""
        with self._lock:
            return artifact_parameters(self._records, name, version) if self._active else None


def warn_on_reuse(records: Mapping[str, Any], run: Pipeline, full: Pipeline, catalog: Any) -> None:
    """One warning per parameter whose value differs from what the artifacts a run reuses
    were made with, naming them and the rerun that applies the run's value."""
    producers = {output: node for node in full.nodes for output in node.outputs}
    reused = sorted(name for name in run.inputs() if name in producers and name in catalog)
    # Per parameter and value made with: the artifacts, and the keys that differ.
    differing: dict[tuple[str, str], tuple[list[str], list[tuple[str, Any, Any]]]] = {}
    for name in reused:
        made_with = artifact_parameters(records, name, loaded_version(catalog.get(name)))
        for parameter, value in (made_with or {}).items():
            if parameter not in catalog:
                continue
            changes = differences(value, catalog.load(parameter), shown_name(parameter))
            if changes:
                artifacts, _ = differing.setdefault((parameter, value_digest(value)), ([], changes))
                artifacts.append(name)
    for (parameter, _), (artifacts, changes) in sorted(differing.items()):
        # The artifacts whose own node read the parameter, else all those made after one.
        direct = [name for name in artifacts if parameter in producers[name].inputs]
        logger.warning(
            "This run reuses %s, made with %s; its own parameters say %s. It uses them as "
            "they are; to apply its values, rerun from the nodes that read %s: "
            "`kedro run --from-nodes %s`.",
            listed(direct or artifacts),
            listed(f"{key} {recorded!r}" for key, recorded, _ in changes),
            listed(f"{key} {current!r}" for key, _, current in changes),
            shown_name(parameter),
            ",".join(first_readers(full, parameter)),
        )


def first_readers(pipeline: Pipeline, parameter: str) -> list[str]:
    """The nodes that read ``parameter`` and do not run after another that does, in order:
    ``--from-nodes`` with them reruns every node that reads it."""
    kept: list[Node] = []
    for node in pipeline.nodes:  # in topological order
        if parameter in node.inputs and not any(
            node in pipeline.from_nodes(earlier.name).nodes for earlier in kept
        ):
            kept.append(node)
    return [node.name for node in kept]


def listed(items: Iterable[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    words = list(items)
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"
