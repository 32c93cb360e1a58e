"""One run's artifacts belong together: a lock per environment, inputs checked, model lineage.

- ``RunLock``: one ``kedro run`` at a time per environment's data folder. A second run
  stops with one sentence naming the running process (or waits, with
  ``run_lock.wait_seconds``); the lock of a process that no longer runs is taken over.
- ``missing_inputs``: a run whose inputs were never written (inference before training)
  stops with one sentence naming the node or command that writes them.
- Lineage: a run that trains the model records, beside it, the version and SHA-256 of
  every artifact the model was trained from (``model_lineage``). A run that uses the model
  loads the versioned artifacts of that record and stops when an artifact it reads is not
  the one the model was trained from, or was saved again since (unless the model was
  chosen with ``--load-versions``: then its own artifacts are loaded).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import socket
import sys
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

from kedro.io.core import AbstractVersionedDataset, DatasetError, Version

from multimodal_keras.errors import MultimodalKerasError

logger = logging.getLogger(__name__)

LOCK_FILE = ".kedro_run.lock"
CHUNK_BYTES = 1 << 20
MODEL = "trained_model"
LINEAGE = "model_lineage"


def files_of(path: Path) -> list[Path]:
    """A file itself, or a folder's files in name order."""
    return [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())


def sha256_of(path: Path) -> str:
    """The SHA-256 of a file, or of a folder's relative file names and contents."""
    digest = hashlib.sha256()
    for file in files_of(path):
        if file is not path:
            digest.update(file.relative_to(path).as_posix().encode())
        with file.open("rb") as stream:
            while chunk := stream.read(CHUNK_BYTES):
                digest.update(chunk)
    return digest.hexdigest()


# ---------------------------------------------------------------------------------------
# One run at a time per environment


def process_is_running(pid: int) -> bool:
    """True when a process with this id exists on this machine."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, under another user
    return True


@dataclass
class RunLock:
    """An exclusive lock file in an environment's data folder, held for one run."""

    folder: Path

    @property
    def path(self) -> Path:
        return self.folder / LOCK_FILE

    def acquire(self, wait_seconds: float = 0.0, poll_seconds: float = 1.0) -> None:
        """Take the lock; stop with one sentence when another live run holds it."""
        self.folder.mkdir(parents=True, exist_ok=True)
        deadline = time.monotonic() + max(wait_seconds, 0.0)
        while True:
            holder = self._try_create()
            if holder is None:
                return
            if self._is_stale(holder):
                logger.warning(
                    "Taking over the lock %s of a run that is no longer running (process %s).",
                    self.path,
                    holder.get("pid"),
                )
                self.path.unlink(missing_ok=True)
                continue
            if time.monotonic() >= deadline:
                raise MultimodalKerasError(
                    f"another run is using {self.folder} (process {holder.get('pid')} on "
                    f"{holder.get('host')}, started {holder.get('started')}: "
                    f"`{holder.get('command')}`); wait for it to finish, run in another "
                    "environment (`--env`), or wait for it with `--params "
                    "run_lock.wait_seconds=600`; if no such run exists, delete "
                    f"{self.path}."
                )
            time.sleep(poll_seconds)

    def release(self) -> None:
        """Give the lock back, if this process holds it."""
        holder = self._holder()
        if holder is not None and holder.get("pid") == os.getpid():
            self.path.unlink(missing_ok=True)

    def _try_create(self) -> dict[str, Any] | None:
        """Create the lock file; None when created, else what the existing one says."""
        record = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "started": datetime.now(UTC).isoformat(timespec="seconds"),
            "command": " ".join([PurePosixPath(sys.argv[0]).name, *sys.argv[1:]]),
        }
        try:
            descriptor = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            return self._holder() or {}
        with os.fdopen(descriptor, "w") as stream:
            json.dump(record, stream)
        return None

    def _holder(self) -> dict[str, Any] | None:
        try:
            return json.loads(self.path.read_text())
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            return {}  # being written, or damaged: held, as far as anyone can tell

    def _is_stale(self, holder: Mapping[str, Any]) -> bool:
        """A lock whose process is gone, or this process's own from an earlier session."""
        pid = holder.get("pid")
        if not isinstance(pid, int):
            return False
        if holder.get("host") != socket.gethostname():
            return False  # another machine's process cannot be checked from here
        return pid == os.getpid() or not process_is_running(pid)


# ---------------------------------------------------------------------------------------
# Inputs that were never written


def is_parameter(name: str) -> bool:
    """True for the catalog's parameter entries."""
    return name == "parameters" or name.startswith("params:")


def missing_inputs(
    names: Iterable[str], catalog: Any, producers: Mapping[str, str]
) -> MultimodalKerasError | None:
    """One sentence about the first free input with nothing saved, or None when all exist.

    ``producers`` maps a dataset to the node of the full pipeline that writes it.
    """
    for name in sorted(names):
        if is_parameter(name):
            continue
        dataset = catalog.get(name)
        if dataset is None or dataset.exists():
            continue
        where = describe_location(dataset)
        if name in producers:
            node = producers[name]
            return MultimodalKerasError(
                f"`{name}` has not been written yet ({where}): train first with "
                f"`kedro run` (this environment's whole pipeline), or write it alone with "
                f"`kedro run --to-nodes {node}`, then run this again."
            )
        return MultimodalKerasError(
            f"`{name}` is not there ({where}): put the file there, or point `{name}` in "
            "the environment's catalog.yml at it."
        )
    return None


def describe_location(dataset: Any) -> str:
    """Where a dataset lives, for messages."""
    filepath = getattr(dataset, "_filepath", None)
    if filepath is None:
        return "not a file"
    if isinstance(dataset, AbstractVersionedDataset):
        return f"no version under {filepath}"
    return f"nothing at {filepath}"


# ---------------------------------------------------------------------------------------
# Lineage: what the model was trained from


def artifact_path(dataset: Any) -> Path | None:
    """The local file or folder a dataset loads from (its latest or pinned version)."""
    if isinstance(dataset, AbstractVersionedDataset):
        try:
            return Path(str(dataset._get_load_path()))
        except DatasetError:  # no version saved yet
            return None
    filepath = getattr(dataset, "_filepath", None)
    return None if filepath is None else Path(str(filepath))


def record_of(dataset: Any) -> dict[str, Any] | None:
    """The version, path and SHA-256 of one artifact as it is on disk now."""
    path = artifact_path(dataset)
    if path is None or not path.exists():
        return None
    version = (
        dataset.resolve_load_version() if isinstance(dataset, AbstractVersionedDataset) else None
    )
    shown = os.path.relpath(path) if path.is_absolute() else str(path)
    return {"version": version, "path": shown, "sha256": sha256_of(path)}


def value_digest(value: Any) -> str:
    """The SHA-256 of a parameter value's canonical JSON."""
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()


def parameters_digest(values: Mapping[str, Any]) -> dict[str, str]:
    """A SHA-256 per parameter entry, over its canonical JSON."""
    return {name: value_digest(value) for name, value in sorted(values.items())}


def lineage_record(
    model_version: str | None,
    artifacts: Mapping[str, Mapping[str, Any]],
    parameters: Mapping[str, Any],
) -> dict[str, Any]:
    """The manifest saved beside a trained model: what it was trained from, and the
    parameters that made it and them."""
    return {
        "model_version": model_version,
        "artifacts": dict(sorted(artifacts.items())),
        "parameters": dict(sorted(parameters.items())),
        "parameters_sha256": parameters_digest(parameters),
    }


@dataclass
class LineageCheck:
    """What a run that uses the model must load, and what stops it."""

    pinned: dict[str, str]
    problem: MultimodalKerasError | None
    newer: dict[str, str] = field(default_factory=dict)  # set aside: name -> newer version


def check_lineage(
    lineage: Mapping[str, Any], reads: Iterable[str], catalog: Any, model_chosen: bool = False
) -> LineageCheck:
    """Pin the run's versioned inputs to the model's and compare every input's SHA-256.

    A versioned artifact loads at the version the model was trained with. When a newer
    version is on disk (refitted after training) the run stops, unless the model itself
    was chosen with ``--load-versions`` (``model_chosen``): then its own artifacts are
    what was asked for. Asking for another version of the artifact stops the run. An
    unversioned one must still have the content the model was trained from.
    """
    model_version = lineage.get("model_version")
    pinned: dict[str, str] = {}
    newer: dict[str, str] = {}
    recorded = lineage.get("artifacts", {})
    for name in sorted(set(reads) & set(recorded)):
        record = recorded[name]
        dataset = catalog.get(name)
        if isinstance(dataset, AbstractVersionedDataset) and record.get("version"):
            asked = dataset._version.load if dataset._version else None
            if asked and asked != record["version"]:
                return LineageCheck(
                    pinned,
                    MultimodalKerasError(
                        f"`{name}` version {asked} was asked for, but the model "
                        f"(`{MODEL}` {model_version}) was trained with version "
                        f"{record['version']}; leave `{name}` out of --load-versions "
                        f"(`--load-versions {MODEL}:<version>` alone loads the model's own)."
                    ),
                )
            latest = dataset.resolve_load_version() if not asked else None
            if latest and latest != record["version"]:
                newer[name] = latest
                if not model_chosen:
                    return LineageCheck(pinned, refitted(name, latest, record, model_version))
            dataset = dataset._copy(_version=Version(record["version"], dataset._version.save))
            pinned[name] = record["version"]
            catalog[name] = dataset
        path = artifact_path(dataset)
        if path is None or not path.exists():
            return LineageCheck(
                pinned,
                MultimodalKerasError(
                    f"`{name}` as the model (`{MODEL}` {model_version}) was trained with it "
                    f"is gone ({record.get('path')}); retrain with `kedro run`, or pick a "
                    f"model whose artifacts are kept with `--load-versions {MODEL}:<version>`."
                ),
            )
        if sha256_of(path) != record.get("sha256"):
            return LineageCheck(pinned, changed_since_training(name, path, model_version))
    return LineageCheck(pinned, None, newer)


def refitted(
    name: str, latest: str, record: Mapping[str, Any], model_version: str | None
) -> MultimodalKerasError:
    """The sentence for a versioned artifact saved again after the model was trained."""
    return MultimodalKerasError(
        f"`{name}` on disk (version {latest}) was saved after the model (`{MODEL}` "
        f"{model_version}) was trained with version {record['version']}; rerun from "
        "`train_model` (`kedro run --from-nodes train_model`) to train with it, or use the "
        f"model with its own: `--load-versions {MODEL}:{model_version}`."
    )


def changed_since_training(
    name: str, path: Path, model_version: str | None
) -> MultimodalKerasError:
    """The sentence for an artifact that is not the one the model was trained from."""
    return MultimodalKerasError(
        f"`{name}` at {path} is not what the model (`{MODEL}` {model_version}) was trained "
        "from: it was rewritten after training (a rerun of part of the pipeline, or another "
        "process); rerun from `train_model` (`kedro run --from-nodes train_model`) to train "
        "on what is there now, or run the whole pipeline (`kedro run`)."
    )
