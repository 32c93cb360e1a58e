"""This process's place in the cluster, read from ``TF_CONFIG``: is it the chief, which task.

Pure JSON reading, no TensorFlow: hooks ask it before a run, whether or not it trains.
"""

from __future__ import annotations

import json
import os

TF_CONFIG = "TF_CONFIG"


def is_chief(tf_config: str | None = None) -> bool:
    """Whether this process writes the run's outputs: no cluster, its chief, or worker 0.

    ``tf_config`` defaults to the ``TF_CONFIG`` environment variable. A cluster with a
    ``chief`` task has that task write; without one, worker 0 is the chief, as
    TensorFlow's multi-worker strategy has it.
    """
    tf_config = os.environ.get(TF_CONFIG) if tf_config is None else tf_config
    if not tf_config:
        return True
    config = json.loads(tf_config)
    task = config.get("task") or {}
    if task.get("type") == "chief":
        return True
    if "chief" in (config.get("cluster") or {}):
        return False
    return task.get("type", "worker") == "worker" and int(task.get("index", 0)) == 0


def describe_task(tf_config: str | None = None) -> str:
    """This process's task in ``TF_CONFIG``, e.g. ``worker 1``, for logs."""
    tf_config = os.environ.get(TF_CONFIG) if tf_config is None else tf_config
    task = (json.loads(tf_config) if tf_config else {}).get("task") or {}
    return f"{task.get('type', 'worker')} {task.get('index', 0)}"
