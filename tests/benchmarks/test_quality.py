"""The quality benchmark configures tables as a user would and judges the model fairly.

Benchmarks are not tests: these check the benchmark's own logic on tiny inputs, not its
figures (``python benchmarks/quality.py`` measures those).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
import quality  # noqa: E402
from quality_tables import BenchmarkTable  # noqa: E402

TABLE = BenchmarkTable(
    name="tiny",
    title="a tiny table",
    task="binary",
    target="label",
    columns={"categorical": ["shop"], "numerical": ["price"], "text": ["review"], "image": []},
    image_source=None,
    licence="test",
    source="test",
    notes="",
)


def result(metric: str, model: float, reference: float) -> dict:
    runs = [
        {
            "scores": {
                "keras_model": model,
                "project_baseline": reference,
                "hist_gradient_boosting": reference - 0.01 if metric != "rmse" else reference + 1,
                "tfidf_linear": None,
            },
            "train_seconds": 1.0,
            "wall_seconds": 2.0,
        }
    ]
    return {"metric": metric, "runs": runs}


@pytest.mark.parametrize(
    ("metric", "model", "reference", "verdict"),
    [
        ("roc_auc", 0.93, 0.92, "wins"),
        ("roc_auc", 0.918, 0.92, "within 0.5 %"),
        ("roc_auc", 0.90, 0.92, "behind"),
        ("rmse", 500.0, 510.0, "wins"),
        ("rmse", 511.0, 510.0, "within 0.5 %"),
        ("rmse", 540.0, 510.0, "behind"),
    ],
)
def test_the_model_is_judged_against_the_best_classical_reference(
    metric, model, reference, verdict
):
    summary = quality.summarise(result(metric, model, reference))

    assert summary["best_reference"] == "project_baseline"
    assert summary["verdict"] == verdict
    assert "tfidf_linear" not in summary["systems"]


def test_the_scratch_environment_holds_only_what_a_user_writes(tmp_path, monkeypatch):
    monkeypatch.setattr(quality, "SCRATCH", tmp_path / "runs")
    parquet = tmp_path / "tiny" / "table.parquet"

    project = quality.scratch_project(TABLE, parquet)

    environment = project / "conf" / quality.ENVIRONMENT
    parameters = yaml.safe_load((environment / "parameters.yml").read_text())
    catalog = yaml.safe_load((environment / "catalog.yml").read_text())
    assert parameters == {
        "table": {"target": "label"},
        "categorical": {"columns": ["shop"]},
        "numerical": {"columns": ["price"]},
        "text": {"columns": ["review"]},
        "image": {"columns": []},
    }
    assert catalog["raw_table"]["filepath"] == str(parquet)
    assert (project / "conf" / "base" / "parameters_training.yml").exists()


@pytest.mark.integration
def test_classical_references_fit_on_training_rows_and_score_the_test_rows():
    rng = np.random.default_rng(0)
    rows = 300
    label = rng.integers(0, 2, rows)
    frame = pd.DataFrame(
        {
            "shop": np.where(label == 1, "north", "south"),
            "price": rng.normal(size=rows) + 2.0 * label,
            "review": np.where(label == 1, "great value", "broken again"),
            "label": np.where(label == 1, "yes", "no"),
            "split": np.repeat(["train", "val", "test"], rows // 3),
        }
    )
    splits = {name: part for name, part in frame.groupby("split")}

    boosted = quality.hist_gradient_boosting(TABLE, splits, Path("."), seed=0)
    linear = quality.tfidf_linear(TABLE, splits, seed=0)
    # Test labels flipped: a reference that had seen them could not score 0 on them.
    flipped = dict(
        splits,
        test=splits["test"].assign(label=lambda t: t["label"].map({"yes": "no", "no": "yes"})),
    )

    assert boosted == pytest.approx(1.0) and linear == pytest.approx(1.0)
    assert quality.tfidf_linear(TABLE, flipped, seed=0) == pytest.approx(0.0)


def test_a_fixed_split_and_the_tuned_settings_reach_every_run_as_params():
    assert quality.run_params(2, None, None) == "seed=2"
    assert (
        quality.run_params(2, 0, "text.max_tokens=5000", "training.use_tuned=true")
        == "seed=2,split.seed=0,text.max_tokens=5000,training.use_tuned=true"
    )


@pytest.mark.parametrize(
    ("metric", "model", "tuned"), [("roc_auc", 0.93, 0.94), ("rmse", 500.0, 450.0)]
)
def test_the_tuned_model_is_compared_with_the_defaults_not_taken_for_a_reference(
    metric, model, tuned
):
    reference = 0.92 if metric == "roc_auc" else 510.0
    measured = result(metric, model, reference)
    for run in measured["runs"]:
        run["scores"][quality.TUNED] = tuned

    summary = quality.summarise(measured)
    table = quality.markdown([{"table": "tiny", "task": "t", **measured, "summary": summary}], "")

    # Better in both cases: a higher ROC AUC, a lower RMSE.
    assert summary["tuned_gain"] == pytest.approx(abs(tuned - model) / model)
    assert summary["best_reference"] == "project_baseline"
    assert "| Keras tuned | tuned vs defaults |" in table
    assert f"{summary['tuned_gain']:+.2%}" in table
