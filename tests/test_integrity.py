"""One run's artifacts belong together: the run lock, missing inputs, the model's lineage."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time

import pandas as pd
import pytest
from kedro.io import DataCatalog
from kedro.io.core import Version
from kedro_datasets.pandas import ParquetDataset

from multimodal_keras import integrity
from multimodal_keras.datasets import TrustedPickleDataset
from multimodal_keras.errors import MultimodalKerasError

OLD, NEW = "2026-01-01T00.00.00.000Z", "2026-06-01T00.00.00.000Z"


def dead_process_id() -> int:
    finished = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(finished.stdout)


def plant_lock(folder, pid: int, host: str | None = None) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    record = {
        "pid": pid,
        "host": host or socket.gethostname(),
        "started": "earlier",
        "command": "kedro run --params seed=7",
    }
    (folder / integrity.LOCK_FILE).write_text(json.dumps(record))


@pytest.mark.integration
def test_a_second_run_is_refused_with_the_process_that_holds_the_lock(tmp_path):
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        plant_lock(tmp_path, holder.pid)
        with pytest.raises(MultimodalKerasError) as refused:
            integrity.RunLock(tmp_path).acquire()
        message = str(refused.value)
        assert f"process {holder.pid}" in message
        assert "kedro run --params seed=7" in message
        assert "run_lock.wait_seconds" in message
    finally:
        holder.kill()
        holder.wait()


@pytest.mark.integration
def test_the_lock_of_a_process_that_is_gone_is_taken_over(tmp_path):
    plant_lock(tmp_path, dead_process_id())
    lock = integrity.RunLock(tmp_path)
    lock.acquire()
    assert json.loads(lock.path.read_text())["pid"] == os.getpid()
    lock.release()
    assert not lock.path.exists()


@pytest.mark.integration
def test_a_lock_held_on_another_machine_is_never_taken_over(tmp_path):
    plant_lock(tmp_path, dead_process_id(), host="another-machine")
    with pytest.raises(MultimodalKerasError, match="another-machine"):
        integrity.RunLock(tmp_path).acquire()


@pytest.mark.integration
def test_with_wait_seconds_a_run_waits_for_the_lock_to_be_released(tmp_path):
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    plant_lock(tmp_path, holder.pid)

    def finish() -> None:
        time.sleep(0.5)
        holder.kill()
        holder.wait()

    threading.Thread(target=finish).start()
    integrity.RunLock(tmp_path).acquire(wait_seconds=30, poll_seconds=0.1)
    assert json.loads((tmp_path / integrity.LOCK_FILE).read_text())["pid"] == os.getpid()


def test_an_input_never_written_names_the_node_that_writes_it(tmp_path):
    catalog = DataCatalog(
        {
            "trained_model": TrustedPickleDataset(
                filepath=str(tmp_path / "m.pkl"), version=Version(None, None)
            ),
            "raw_table": ParquetDataset(filepath=str(tmp_path / "table.parquet")),
        }
    )
    problem = integrity.missing_inputs(
        ["trained_model", "params:x"], catalog, {"trained_model": "train_model"}
    )
    assert "`trained_model` has not been written yet" in str(problem)
    assert "kedro run --to-nodes train_model" in str(problem)
    problem = integrity.missing_inputs(["raw_table"], catalog, {})
    assert "`raw_table` is not there" in str(problem)
    pd.DataFrame({"a": [1]}).to_parquet(tmp_path / "table.parquet")
    assert integrity.missing_inputs(["raw_table"], catalog, {}) is None


def lineage_catalog(tmp_path) -> DataCatalog:
    return DataCatalog(
        {
            "preprocessor": TrustedPickleDataset(
                filepath=str(tmp_path / "pre.pkl"), version=Version(None, None)
            ),
            "features": ParquetDataset(filepath=str(tmp_path / "features.parquet")),
        }
    )


def trained_lineage(tmp_path) -> dict:
    TrustedPickleDataset(filepath=str(tmp_path / "pre.pkl"), version=Version(None, OLD)).save(
        {"scale": 1.0}
    )
    pd.DataFrame({"x": [1.0, 2.0]}).to_parquet(tmp_path / "features.parquet")
    catalog = lineage_catalog(tmp_path)
    artifacts = {
        name: integrity.record_of(catalog.get(name)) for name in ("preprocessor", "features")
    }
    return integrity.lineage_record(OLD, artifacts, {"params:numerical": {"scaling": "standard"}})


def test_a_preprocessor_refitted_after_training_stops_the_run_with_both_fixes(tmp_path):
    lineage = trained_lineage(tmp_path)
    TrustedPickleDataset(filepath=str(tmp_path / "pre.pkl"), version=Version(None, NEW)).save(
        {"scale": 99.0}
    )
    check = integrity.check_lineage(lineage, {"preprocessor"}, lineage_catalog(tmp_path))
    message = str(check.problem)
    assert f"`preprocessor` on disk (version {NEW}) was saved after the model" in message
    assert "kedro run --from-nodes train_model" in message
    assert f"--load-versions trained_model:{OLD}" in message


def test_a_model_chosen_by_version_loads_its_own_preprocessor_not_the_newer_one(tmp_path):
    lineage = trained_lineage(tmp_path)
    TrustedPickleDataset(filepath=str(tmp_path / "pre.pkl"), version=Version(None, NEW)).save(
        {"scale": 99.0}
    )
    catalog = lineage_catalog(tmp_path)
    check = integrity.check_lineage(lineage, {"preprocessor"}, catalog, model_chosen=True)
    assert check.problem is None
    assert check.pinned == {"preprocessor": OLD}
    assert check.newer == {"preprocessor": NEW}
    assert catalog.load("preprocessor") == {"scale": 1.0}


def test_features_rewritten_after_training_stop_the_run_with_the_fix(tmp_path):
    lineage = trained_lineage(tmp_path)
    pd.DataFrame({"x": [0.0, 1.0]}).to_parquet(tmp_path / "features.parquet")
    check = integrity.check_lineage(lineage, {"features"}, lineage_catalog(tmp_path))
    assert "is not what the model" in str(check.problem)
    assert "kedro run --from-nodes train_model" in str(check.problem)


def test_asking_for_another_preprocessor_version_than_the_models_is_refused(tmp_path):
    lineage = trained_lineage(tmp_path)
    catalog = DataCatalog(
        {
            "preprocessor": TrustedPickleDataset(
                filepath=str(tmp_path / "pre.pkl"), version=Version(NEW, None)
            ),
        }
    )
    check = integrity.check_lineage(lineage, {"preprocessor"}, catalog)
    assert f"version {NEW} was asked for" in str(check.problem)


def test_a_pinned_pickle_replaced_on_disk_is_refused_before_loading(tmp_path):
    lineage = trained_lineage(tmp_path)
    (tmp_path / "pre.pkl" / OLD / "pre.pkl").write_bytes(b"not the project's pickle")
    check = integrity.check_lineage(
        lineage, {"preprocessor"}, lineage_catalog(tmp_path), model_chosen=True
    )
    assert "is not what the model" in str(check.problem)


def test_the_parameters_digest_changes_with_any_value():
    first = integrity.parameters_digest({"params:text": {"ngrams": 2}})
    assert first == integrity.parameters_digest({"params:text": {"ngrams": 2}})
    assert first != integrity.parameters_digest({"params:text": {"ngrams": 1}})
