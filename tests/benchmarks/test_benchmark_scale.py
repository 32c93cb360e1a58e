"""The benchmark's scale group: tables written a row group at a time, one run per size.

Benchmarks are not tests: these check the group's own logic on tiny tables, not its
figures (``python benchmarks/run.py --scale-rows ...`` measures those).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
import yaml

from tests.scratch_project import PROJECT_ROOT, run_in

sys.path.insert(0, str(PROJECT_ROOT / "benchmarks"))
import run  # noqa: E402
from synthetic import TARGET, column_names, write_benchmark_table  # noqa: E402

SPEC = yaml.safe_load((PROJECT_ROOT / "conf" / "base" / "parameters_demo.yml").read_text())["demo"]
COLUMNS = column_names(2, 2, 1, 0)


def written(path: Path, rows: int, seed: int = 0, group_rows: int = 400) -> pd.DataFrame:
    groups = write_benchmark_table(path, COLUMNS, rows, SPEC, seed, 16, group_rows)
    assert groups == pq.ParquetFile(path).metadata.num_row_groups
    return pd.read_parquet(path)


def test_the_scale_table_is_written_group_by_group_the_same_for_a_seed(tmp_path):
    table = written(tmp_path / "a.parquet", 1000)

    assert pq.ParquetFile(tmp_path / "a.parquet").metadata.num_row_groups == 3
    assert list(table.columns) == [*sum(COLUMNS.values(), []), TARGET]
    assert len(table) == 1000
    assert 0.4 < table[TARGET].mean() < 0.6
    assert table["amount_0"].isna().any()
    assert table["note_0"].str.len().gt(0).any()
    pd.testing.assert_frame_equal(written(tmp_path / "b.parquet", 1000), table)
    assert not written(tmp_path / "c.parquet", 1000, seed=1).equals(table)


def test_the_scale_targets_cover_every_size_and_the_time_per_row():
    scale = {
        "columns": "5 categorical, 5 numerical, 1 text",
        "epochs": 1,
        "group_rows": 100_000,
        "processing": {"chunk_rows": 100_000, "dask": {"address": None}},
        "runs": [
            {"rows": rows, "seconds": seconds, "peak_mib": peak, "nodes": {}}
            for rows, seconds, peak in ((1_000_000, 100.0, 2000.0), (10_000_000, 1300.0, 3100.0))
        ],
    }
    for entry in scale["runs"]:
        entry["seconds_per_million_rows"] = entry["seconds"] / entry["rows"] * 1e6
        entry["time_per_row_ratio"] = entry["seconds_per_million_rows"] / 100.0
    args = run.parse_args([])

    rows = run.targets({"scale": scale}, args)

    peaks = [row for row in rows if "peak resident memory" in row["target"]]
    assert [(row["value"], row["met"]) for row in peaks] == [(2000.0, True), (3100.0, False)]
    ratio = next(row for row in rows if "time per row" in row["target"])
    assert ratio["value"] == pytest.approx(1.3)
    assert not ratio["met"]
    assert ratio["at_target_size"]
    text = "\n".join(run.scale_table(scale))
    assert "| 10,000,000 | 1300.0 | 130.0 | 1.30 | 3,100 | — |" in text
    assert "dask.address null" in text


@pytest.mark.slow
def test_the_scale_group_runs_one_project_per_size(tmp_path: Path):
    output = tmp_path / "results.json"
    finished = run_in(
        PROJECT_ROOT,
        str(PROJECT_ROOT / "benchmarks" / "run.py"),
        *("--rows", "100", "--categorical", "1", "--numerical", "1", "--image-size", "16"),
        *("--skip", "stages", "steps", "images", "memory", "pipeline"),
        *("--scale-rows", "600", "300", "--scale-group-rows", "200"),
        *("--workdir", str(tmp_path / "work"), "--output", str(output)),
        timeout=600,
    )

    assert finished.returncode == 0, finished.stdout[-3000:] + finished.stderr[-3000:]
    scale = json.loads(output.read_text())["scale"]
    assert [entry["rows"] for entry in scale["runs"]] == [300, 600]
    assert [entry["row_groups"] for entry in scale["runs"]] == [2, 3]
    assert scale["runs"][0]["time_per_row_ratio"] == 1.0
    nodes = scale["runs"][1]["nodes"]
    assert "train_model" in nodes
    # The process's peak covers every node's, although the project resets it per node.
    assert scale["runs"][1]["peak_mib"] >= max(node["peak_mib"] for node in nodes.values())
    assert scale["processing"] == run.read_conf("parameters_data_processing")["processing"]
    assert "| 600 |" in output.with_suffix(".md").read_text()
