"""TrustedPickleDataset records each pickle's SHA-256 and refuses any other file unread."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import pytest
from kedro.io import DatasetError
from kedro.io.core import Version

from multimodal_keras.datasets import TrustedPickleDataset
from multimodal_keras.datasets.atomic import PARTIAL_PREFIX
from multimodal_keras.errors import MultimodalKerasError


class Planted:
    """A pickle that runs a command when it is unpickled."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


class Unpicklable:
    def __reduce__(self):
        raise TypeError("cannot be pickled")


def versioned(path: Path, load: str | None = None, save: str | None = None):
    return TrustedPickleDataset(filepath=str(path), version=Version(load, save))


def test_a_saved_pickle_loads_back_and_its_digest_lies_beside_it(tmp_path):
    dataset = versioned(tmp_path / "encoder.pkl", save="2026-01-01T00.00.00.000Z")
    dataset.save({"classes": [0, 1]})
    assert versioned(tmp_path / "encoder.pkl").load() == {"classes": [0, 1]}
    folder = tmp_path / "encoder.pkl" / "2026-01-01T00.00.00.000Z"
    assert sorted(p.name for p in folder.iterdir()) == ["encoder.pkl", "encoder.pkl.sha256"]


def test_a_planted_newer_version_is_refused_before_its_code_runs(tmp_path):
    versioned(tmp_path / "encoder.pkl", save="2026-01-01T00.00.00.000Z").save({"ok": 1})
    planted = tmp_path / "encoder.pkl" / "2026-06-01T00.00.00.000Z" / "encoder.pkl"
    planted.parent.mkdir()
    marker = tmp_path / "it_ran"
    planted.write_bytes(pickle.dumps(Planted(marker)))

    with pytest.raises(DatasetError) as raised:
        versioned(tmp_path / "encoder.pkl").load()
    assert isinstance(raised.value.__cause__, MultimodalKerasError)
    assert "has no SHA-256 record" in str(raised.value.__cause__)
    assert not marker.exists()


def test_a_pickle_changed_after_it_was_saved_is_refused(tmp_path):
    path = tmp_path / "encoder.pkl"
    TrustedPickleDataset(filepath=str(path)).save({"ok": 1})
    marker = tmp_path / "it_ran"
    path.write_bytes(pickle.dumps(Planted(marker)))
    with pytest.raises(DatasetError, match="changed after this project wrote it"):
        TrustedPickleDataset(filepath=str(path)).load()
    assert not marker.exists()


def test_a_failed_save_leaves_the_previous_version_latest_and_nothing_behind(tmp_path):
    versioned(tmp_path / "encoder.pkl", save="2026-01-01T00.00.00.000Z").save({"ok": 1})
    with pytest.raises(DatasetError):
        versioned(tmp_path / "encoder.pkl", save="2026-06-01T00.00.00.000Z").save(Unpicklable())
    assert versioned(tmp_path / "encoder.pkl").load() == {"ok": 1}
    left = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*"))
    assert not [name for name in left if PARTIAL_PREFIX in name or "2026-06" in name]
