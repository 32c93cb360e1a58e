"""The file datasets the project writes save atomically: a failed save leaves no trace."""

from __future__ import annotations

import json

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from kedro.io import DatasetError  # noqa: E402
from kedro.io.core import Version  # noqa: E402

from multimodal_keras.datasets import JSONDataset, ParquetDataset  # noqa: E402
from multimodal_keras.datasets.atomic import PARTIAL_PREFIX  # noqa: E402
from multimodal_keras.datasets.figures_dataset import FiguresDataset  # noqa: E402
from multimodal_keras.datasets.html_dataset import HTMLDataset  # noqa: E402

OLD, NEW = "2026-01-01T00.00.00.000Z", "2026-06-01T00.00.00.000Z"


def leftovers(folder) -> list[str]:
    return [p.name for p in folder.rglob("*") if p.name.startswith(PARTIAL_PREFIX)]


def test_a_failed_json_save_keeps_the_previous_version_latest(tmp_path):
    path = tmp_path / "metrics.json"
    JSONDataset(filepath=str(path), version=Version(None, OLD)).save({"auc": 0.9})
    with pytest.raises(DatasetError):
        JSONDataset(filepath=str(path), version=Version(None, NEW)).save({"auc": object()})
    assert [p.name for p in path.iterdir()] == [OLD]
    assert JSONDataset(filepath=str(path), version=Version(None, None)).load() == {"auc": 0.9}
    assert not leftovers(tmp_path)


def test_a_failed_parquet_save_keeps_the_previous_file(tmp_path):
    path = tmp_path / "features.parquet"
    ParquetDataset(filepath=str(path)).save(pd.DataFrame({"a": [1, 2]}))
    with pytest.raises(DatasetError):
        ParquetDataset(filepath=str(path)).save(pd.DataFrame({"a": [1, object()]}))
    pd.testing.assert_frame_equal(pd.read_parquet(path), pd.DataFrame({"a": [1, 2]}))
    assert not leftovers(tmp_path)


def test_figures_and_html_save_in_place_of_their_targets(tmp_path):
    figure, _ = plt.subplots()
    figures = FiguresDataset(filepath=str(tmp_path / "figures"), version=Version(None, OLD))
    figures.save({"roc.png": figure, "confusion.png": figure})
    plt.close(figure)
    assert sorted(p.name for p in (tmp_path / "figures" / OLD / "figures").iterdir()) == [
        "confusion.png",
        "roc.png",
    ]
    HTMLDataset(filepath=str(tmp_path / "report.html")).save("<p>run</p>")
    assert (tmp_path / "report.html").read_text() == "<p>run</p>"
    JSONDataset(filepath=str(tmp_path / "plain.json")).save({"a": 1})
    assert json.loads((tmp_path / "plain.json").read_text()) == {"a": 1}
    assert not leftovers(tmp_path)
