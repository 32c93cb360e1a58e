"""build_run_report: every section from the saved artifacts, the baseline when it is there."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd
import pytest

from multimodal_keras.modalities import categorical, image, numerical
from multimodal_keras.modalities.text import TextPreprocessor
from multimodal_keras.model import figures
from multimodal_keras.pipelines.reporting.nodes import build_run_report
from multimodal_keras.report import figure_png
from multimodal_keras.targets import TargetEncoder

REPORTING = {
    "title": "Test report",
    "configuration": ["seed", "table", "absent_section"],
    "figure_dpi": 30,
    "max_list_items": 4,
}
SPLIT = ["train"] * 6 + ["val"] * 2 + ["test"] * 4
ROW_IDS = np.arange(100, 112)


def sections(document: str) -> dict[str, str]:
    """Each section's HTML by its anchor."""
    return dict(re.findall(r'<section id="([^"]+)">(.*?)</section>', document, re.DOTALL))


@pytest.fixture(scope="module")
def preprocessors() -> dict[str, Any]:
    rows = pd.DataFrame(
        {
            "row_id": np.arange(6),
            "colour": ["red", "blue", "red", "green", "blue", "red"],
            "price": [1.0, 2.0, 3.0, None, 5.0, 6.0],
        }
    )
    return {
        "categorical": categorical.fit(
            rows, {"columns": ["colour"], "encoding": "one_hot", "missing_token": "?"}
        ),
        "numerical": numerical.fit(
            rows, {"columns": ["price"], "imputation": "median", "scaling": "standard"}
        ),
        "text": TextPreprocessor(
            ["notes"], ["", "[UNK]", "good", "bad"], 8, None, "whitespace", None, 4
        ),
        "image": image.fit(
            rows.iloc[:0],
            {
                "columns": [],
                "source": "bytes",
                "height": 8,
                "width": 8,
                "channels": 3,
                "interpolation": "bilinear",
                "max_pixels": 100,
                "formats": ["PNG"],
                "chunk_size": 4,
            },
        ),
    }


def classification_inputs(**metric_extras: Any) -> dict[str, Any]:
    encoder = TargetEncoder("sold", "binary", classes=[0, 1])
    targets = np.array([0, 1] * 6, dtype=np.int32)
    return {
        "metrics": {
            "task": "binary",
            "test_rows": 4,
            "model": {
                "accuracy": 0.75,
                "roc_auc": 0.8,
                "confusion_matrix": [[1, 1], [0, 2]],
            },
            **metric_extras,
        },
        "training_history": {
            "loss": [0.7, 0.5, 0.45],
            "val_loss": [0.69, 0.6, 0.62],
            "accuracy": [0.5, 0.7, 0.8],
            "val_accuracy": [0.5, 0.6, 0.6],
            # Early stopping watches validation ROC AUC (binary): best at the third epoch,
            # where the validation loss is not at its lowest.
            "val_auc": [0.70, 0.75, 0.80],
        },
        "modality_importance": {
            "metric": "roc_auc",
            "intact": 0.8,
            "repeats": 2,
            "test_rows": 4,
            "modalities": {
                "categorical": {"mean_drop": 0.2, "std_drop": 0.05, "drops": [0.25, 0.15]},
                "numerical": {"mean_drop": 0.0, "std_drop": 0.0, "drops": [0.0, 0.0]},
            },
        },
        "split_assignments": pd.DataFrame({"row_id": ROW_IDS, "split": SPLIT}),
        "encoded_target": pd.DataFrame({"row_id": ROW_IDS, "target": targets}),
        # As evaluate_model returns them (a run's report reads them saved, as PNG bytes).
        "evaluation_figures": {
            "confusion_matrix.png": figures.confusion_matrix([[1, 1], [0, 2]], encoder.classes),
            "roc_curve.png": figures.roc_curves(
                targets[-4:], np.array([[0.8, 0.2], [0.3, 0.7], [0.4, 0.6], [0.1, 0.9]]), [0, 1]
            ),
        },
        "target_encoder": encoder,
        "parameters": {"seed": 7, "table": {"target": "sold"}, "demo": {"rows": 10}},
        "reporting": REPORTING,
    }


@pytest.fixture(scope="module")
def classification_report(preprocessors: dict[str, Any]) -> str:
    """The report of a binary task without a baseline."""
    return build_run_report(**classification_inputs(), **preprocessors)


def test_the_report_holds_every_section_and_embeds_its_figures(classification_report):
    document = classification_report
    found = sections(document)
    assert list(found) == [
        "configuration",
        "data",
        "preprocessing",
        "training",
        "metrics",
        "test-figures",
        "importance",
    ]
    assert document.count('src="data:image/png;base64,') == 4
    assert "<summary>seed</summary>" in found["configuration"]
    assert "target: sold" in found["configuration"]
    assert "demo" not in found["configuration"]  # not listed under reporting.configuration
    assert "best val_auc 0.8000 at epoch 3, whose weights the model keeps" in found["training"]
    assert "Confusion matrix and ROC" in document


def test_rows_are_counted_per_split_and_class(classification_report):
    found = sections(classification_report)
    assert "<th>sold = 0</th><th>sold = 1</th>" in found["data"]
    rows = re.findall(r"<tr><td>(\w+)</td>((?:<td[^>]*>[^<]*</td>)+)</tr>", found["data"])
    counts = {name: re.findall(r">([^<]*)</td>", cells) for name, cells in rows}
    assert counts == {
        "train": ["6", "3", "3"],
        "val": ["2", "1", "1"],
        "test": ["4", "2", "2"],
        "all": ["12", "6", "6"],
    }


def test_each_modality_is_summarised_by_its_describe(classification_report):
    found = sections(classification_report)["preprocessing"]
    assert "<td>vocabulary_size</td><td class=number>4</td>" in found
    assert "<td>encoded_width</td>" in found
    assert "<td>mean</td>" in found and "<td>scale</td>" in found
    image_part = found.split("<h3>image</h3>")[1]
    assert "No columns configured" in image_part


def test_without_a_baseline_the_metrics_say_so(classification_report):
    found = sections(classification_report)["metrics"]
    assert "<th>metric</th><th>model</th></tr>" in found
    assert "no baseline" in found
    assert "confusion_matrix" not in found


def test_the_baseline_stands_beside_the_model_when_the_metrics_hold_one(preprocessors):
    inputs = classification_inputs(
        baseline={"accuracy": 0.7, "roc_auc": 0.78, "log_loss": 0.5},
        baseline_estimator={"estimator": "hist_gradient_boosting"},
    )
    found = sections(build_run_report(**inputs, **preprocessors))["metrics"]
    assert "<th>baseline (hist_gradient_boosting)</th>" in found
    assert "<tr><td>roc_auc</td><td class=number>0.8</td><td class=number>0.78</td></tr>" in found
    assert "<tr><td>log_loss</td><td>—</td><td class=number>0.5</td></tr>" in found


def test_a_regression_report_plots_predicted_against_actual(preprocessors):
    inputs = classification_inputs()
    inputs["target_encoder"] = TargetEncoder("price", "regression", mean=1.0, scale=2.0)
    inputs["metrics"] = {
        "task": "regression",
        "test_rows": 4,
        "model": {"rmse": 0.4, "mae": 0.3, "r2": 0.6},
    }
    inputs["encoded_target"]["target"] = np.linspace(-1, 1, 12).astype(np.float32)
    saved = figures.predicted_against_actual(np.array([1.0, 2.0, 3.0]), np.array([1.1, 2.2, 2.7]))
    inputs["evaluation_figures"] = {"predicted_against_actual.png": figure_png(saved, 30)}
    document = build_run_report(**inputs, **preprocessors)
    found = sections(document)
    assert "Predicted against actual" in document
    assert found["test-figures"].count("<img") == 1
    assert "sold = 0" not in found["data"]


def test_the_latest_search_and_the_tuned_settings_are_shown_when_there_are_some(preprocessors):
    trials = pd.DataFrame(
        {
            "trial": [1, 2, 3],
            "status": ["completed", "completed", "failed"],
            "training.learning_rate": [0.001, 0.004, 0.002],
            "model.fusion.units": ["[64]", "[128, 64]", "[64]"],
            "metric": "val_auc",
            "direction": "max",
            "score": [0.71, 0.83, None],
            "epochs": [4, 6, None],
            "seconds": [3.2, 4.1, None],
        }
    )
    record = {
        "version": "2026-11-29T10.00.00.000Z",
        "settings": {"model.fusion.units": [128, 64], "training.learning_rate": 0.004},
    }
    inputs = classification_inputs(tuned_parameters=record)

    found = sections(build_run_report(**inputs, tuning_trials=trials, **preprocessors))

    assert "trial 2 scored best, 0.8300" in found["tuning"]
    assert "<tr><td>model.fusion.units</td><td>[128, 64]</td></tr>" in found["tuning"]
    assert found["tuning"].count("<img") == 2
    assert "tuned settings of tuned_parameters 2026-11-29T10.00.00.000Z" in found["metrics"]
    assert (
        "<tr><td>training.learning_rate</td><td class=number>0.004</td></tr>" in (found["metrics"])
    )


def test_without_a_search_the_report_has_no_tuning_section(classification_report):
    assert "tuning" not in sections(classification_report)
    assert "tuned settings" not in classification_report


def test_the_configuration_is_the_one_the_model_was_made_with(preprocessors):
    inputs = classification_inputs()
    # The run's parameters say seed 7 and target sold; the model was made from artifacts
    # an earlier run wrote with seed 3 (its lineage records what made it).
    lineage = {"parameters": {"params:seed": 3, "params:table": {"target": "sold"}}}
    found = sections(build_run_report(**inputs, model_lineage=lineage, **preprocessors))

    configuration = found["configuration"]
    assert "seed: 3" in configuration and "seed: 7" not in configuration
    assert "This run&#39;s parameters say seed 7" in configuration
    assert "target: sold" in configuration
    assert configuration.count("parameters say") == 1  # the table section is the same


def test_a_lineage_without_parameters_leaves_the_run_s(preprocessors):
    inputs = classification_inputs()
    found = sections(build_run_report(**inputs, model_lineage={"artifacts": {}}, **preprocessors))
    assert "seed: 7" in found["configuration"]
    assert "parameters say" not in found["configuration"]
