"""Where movies' test error differs between the network and gradient boosting, by segment.

Run from the repository root after ``python benchmarks/quality.py --tables movies``: it
reads the scratch project's last split and the network's test predictions of that split,
refits the benchmark's HistGradientBoosting on the same training rows, and prints each
segment's RMSE for both and how much of the squared-error gap it holds.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, "benchmarks")
import quality  # noqa: E402

RUN = Path("data/benchmark/runs/movies/data/quality")


def main() -> None:
    primary = pd.read_parquet(RUN / "03_primary/primary_table.parquet")
    assignments = pd.read_parquet(RUN / "03_primary/split_assignments.parquet")
    rows = primary.merge(assignments, on="row_id").set_index("row_id", drop=False)
    splits = {name: rows[rows.split == name] for name in ("train", "val", "test")}
    captured = {}
    headline = quality.headline

    def capture(task, truth, scores, classes):
        captured["scores"] = scores
        return headline(task, truth, scores, classes)

    quality.headline = capture
    quality.hist_gradient_boosting(quality.TABLES["movies"], splits, Path("."), 0)
    test = splits["test"].copy()
    test["hgb"] = captured["scores"]
    latest = sorted(RUN.glob("07_model_output/test_predictions.parquet/*/*.parquet"))[-1]
    network = pd.read_parquet(latest).set_index("row_id")
    test["nn"] = network.loc[test.index, "prediction"].astype(float)
    truth = test["Meter"].astype(float)
    test["e_hgb"], test["e_nn"] = (test.hgb - truth) ** 2, (test.nn - truth) ** 2
    print(f"RMSE: gradient boosting {np.sqrt(test.e_hgb.mean()):.4f}, network "
          f"{np.sqrt(test.e_nn.mean()):.4f}, their mean "
          f"{np.sqrt((((test.hgb + test.nn) / 2 - truth) ** 2).mean()):.4f}")  # fmt: skip
    seen = test.Director.isin(set(splits["train"].Director.dropna()))
    segments = {
        "Year": pd.cut(test.Year, [1900, 1960, 1970, 1980, 1990, 1995, 2000, 2005, 2010, 2015]),
        "Reviews": pd.qcut(test.Reviews, 5),
        "BoxOffice missing": test.BoxOffice.isna(),
        "Director in the training rows": seen,
    }
    for name, key in segments.items():
        table = test.groupby(key, observed=True).agg(
            rows=("e_hgb", "size"), hgb=("e_hgb", "mean"), nn=("e_nn", "mean")
        )
        table["gap_share"] = (table.nn - table.hgb) * table.rows
        table["gap_share"] /= (test.e_nn - test.e_hgb).sum()
        table[["hgb", "nn"]] = np.sqrt(table[["hgb", "nn"]])
        print(f"\n{name}\n{table.round(3).to_string()}")


if __name__ == "__main__":
    main()
