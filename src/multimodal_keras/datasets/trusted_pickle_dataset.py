"""``TrustedPickleDataset``: pickles whose SHA-256 is recorded on save and checked on load.

Unpickling runs whatever code the file names, so a pickle this project did not write
must never be unpickled. Each save writes ``<file>.sha256`` beside the pickle; a load
reads the file's bytes, and unpickles them only when their SHA-256 is the one recorded.
A file without that record, or changed since, is refused before any of its code runs.
The check protects against files dropped into or changed in the data folder; it does not
protect against someone who can write both the pickle and its record (docs/integrity.md).
Saves are atomic (``atomic.staged``).
"""

from __future__ import annotations

import hashlib
import importlib
import io
from pathlib import Path
from typing import Any

from kedro.io.core import get_filepath_str
from kedro_datasets.pickle import PickleDataset

from multimodal_keras.datasets.atomic import staged
from multimodal_keras.errors import MultimodalKerasError

DIGEST_SUFFIX = ".sha256"


def digest_path(pickle_path: Path) -> Path:
    """Where a pickle's recorded SHA-256 lives: beside it."""
    return pickle_path.with_name(pickle_path.name + DIGEST_SUFFIX)


class TrustedPickleDataset(PickleDataset):
    """kedro-datasets' ``pickle.PickleDataset`` on the local disk, with the SHA-256 check.

    Example catalog entry::

        numerical.preprocessor:
          type: multimodal_keras.datasets.TrustedPickleDataset
          filepath: data/06_models/numerical_preprocessor.pkl
          versioned: true
    """

    def load(self) -> Any:
        path = Path(get_filepath_str(self._get_load_path(), self._protocol))
        content = path.read_bytes()
        record = digest_path(path)
        if not record.is_file():
            raise MultimodalKerasError(
                f"{path} has no SHA-256 record ({record.name}), so this project did not "
                "write it; it was not unpickled, because unpickling runs code. Delete it, "
                "or rerun the node that writes it."
            )
        if hashlib.sha256(content).hexdigest() != record.read_text().strip():
            raise MultimodalKerasError(
                f"{path} changed after this project wrote it (its SHA-256 is not the one "
                f"recorded in {record.name}); it was not unpickled, because unpickling runs "
                "code. Rerun the node that writes it."
            )
        backend = importlib.import_module(self._backend)
        return backend.load(io.BytesIO(content), **self._load_args)

    def save(self, data: Any) -> None:
        path = Path(get_filepath_str(self._get_save_path(), self._protocol))
        backend = importlib.import_module(self._backend)
        buffer = io.BytesIO()
        backend.dump(data, buffer, **self._save_args)
        content = buffer.getvalue()
        with staged(path) as partial:
            partial.write_bytes(content)
            # The record first: a pickle is never in place without it.
            with staged(digest_path(path)) as partial_digest:
                partial_digest.write_text(hashlib.sha256(content).hexdigest() + "\n")
        self._invalidate_cache()
