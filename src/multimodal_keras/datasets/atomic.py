"""Saving a file so that a failed save leaves nothing behind and never becomes the latest.

The data is written to a hidden file beside its target, flushed to disk, then renamed
onto the target: a reader sees the old file or the complete new one, never a part. On
failure the hidden file goes, and so does the version folder when the save created it
empty, so the previous version stays the latest. (Kedro's versioned datasets write
straight into the version folder; none of kedro-datasets' file datasets stage a save.)
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PARTIAL_PREFIX = ".partial-"


def partial_path(target: Path) -> Path:
    """The hidden file a save writes before it becomes ``target``; keeps the suffix."""
    return target.with_name(f"{PARTIAL_PREFIX}{target.name}")


def flush_to_disk(path: Path) -> None:
    """Make a written file durable before it is renamed into place."""
    with path.open("rb") as stream:
        os.fsync(stream.fileno())


@contextmanager
def staged(target: Path) -> Iterator[Path]:
    """Yield the path to write; on success it replaces ``target``, on failure it is removed."""
    created = [folder for folder in (target.parent,) if not folder.exists()]
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = partial_path(target)
    try:
        yield partial
        flush_to_disk(partial)
        partial.replace(target)
    except BaseException:
        partial.unlink(missing_ok=True)
        for folder in created:
            if folder.exists() and not any(folder.iterdir()):
                folder.rmdir()
        raise
