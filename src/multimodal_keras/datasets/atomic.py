"""Saving a file so that a failed save leaves nothing behind and never becomes the latest.

The data is written to a hidden file beside its target, flushed to disk, then renamed
onto the target: a reader sees the old file or the complete new one, never a part. On
failure the hidden file goes, and so does the version folder when the save created it
empty, so the previous version stays the latest. (Kedro's versioned datasets write
straight into the version folder; none of kedro-datasets' file datasets stage a save.)
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from typing import Any

from kedro.io.core import get_filepath_str

from multimodal_keras.integrity import files_of

PARTIAL_PREFIX = ".partial-"


def partial_path(target: Path) -> Path:
    """The hidden file a save writes before it becomes ``target``; keeps the suffix."""
    return target.with_name(f"{PARTIAL_PREFIX}{target.name}")


def flush_to_disk(path: Path) -> None:
    """Make a written file, or a folder's files, durable before they are renamed into place."""
    for file in files_of(path):
        with file.open("rb") as stream:
            os.fsync(stream.fileno())


def remove(path: Path) -> None:
    """Remove a file or a folder, if it is there."""
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


@contextmanager
def staged(target: Path) -> Iterator[Path]:
    """Yield the path to write; on success it replaces ``target``, on failure it is removed."""
    folder = target.parent
    made_folder = not folder.exists()  # a new version's folder, removed again on failure
    folder.mkdir(parents=True, exist_ok=True)
    partial = partial_path(target)
    remove(partial)
    try:
        yield partial
        flush_to_disk(partial)
        if partial.is_dir() and target.is_dir():
            shutil.rmtree(target)  # an unversioned folder: the new one takes its place
        partial.replace(target)
    except BaseException:
        remove(partial)
        if made_folder and folder.exists() and not any(folder.iterdir()):
            folder.rmdir()
        raise


class AtomicSave:
    """Mixin for a kedro-datasets file dataset: its ``save`` writes through ``staged``.

    The dataset's own ``save`` runs unchanged, but the path it asks for
    (``_get_save_path``) is the hidden partial path; once it returns, the partial file (or
    folder, for a dict of figures) is renamed onto the real one. Local files only. Each
    subclass gets this ``save`` as its own, so that Kedro wraps it (logging, errors,
    versions) once, around the rename as well.
    """

    _staging: PurePosixPath | None = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        if "save" not in cls.__dict__:
            cls.save = AtomicSave._atomic_save
        super().__init_subclass__(**kwargs)

    def _atomic_save(self, data: Any) -> None:
        target = Path(get_filepath_str(self._get_save_path(), self._protocol))
        with staged(target) as partial:
            self._staging = PurePosixPath(partial)
            try:
                self._dataset_save()(self, data)
            finally:
                self._staging = None

    def _dataset_save(self) -> Any:
        """The wrapped dataset's own save, without Kedro's wrapper around it."""
        order = type(self).__mro__
        for klass in order[order.index(AtomicSave) + 1 :]:
            if "save" in vars(klass):
                save = vars(klass)["save"]
                return getattr(save, "__wrapped__", save)
        raise TypeError(f"{type(self).__name__} has no save to make atomic")

    def _get_save_path(self) -> PurePosixPath:
        if self._staging is not None:
            return self._staging
        return super()._get_save_path()
