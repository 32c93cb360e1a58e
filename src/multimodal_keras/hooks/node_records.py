"""``NodeRecordHooks``: a log line per node with its time, peak memory and shapes, and the
run's ``run_timings``."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping
from typing import Any

from kedro.framework.hooks import hook_impl
from kedro.pipeline.node import Node

from multimodal_keras.hooks.memory import peak_memory_mib, reset_peak_memory
from multimodal_keras.hooks.shapes import describe_data

# Every project hook logs under the package's name: one logger to configure or filter.
logger = logging.getLogger("multimodal_keras.hooks")


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
