"""`kedro run` in a copy of the project writes every artifact, and one node reruns from disk.

The run that writes the artifacts is the project's `run` command in this process (Click's
runner, as tests/bad_inputs runs it): what it writes is what is checked, and a TensorFlow
start-up is saved. The bad table is run as `python -m kedro`, since what it checks is what
the terminal of a process of its own shows (tests/integration/test_kedro_run.py checks a
whole default run's terminal the same way).
"""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import keras
import numpy as np
import pandas as pd
import pytest

from multimodal_keras.modalities import MODALITIES
from multimodal_keras.modalities.base import configured_columns
from tests.artifacts import latest, versions
from tests.bad_inputs.conftest import kedro_run as run_in_this_process
from tests.configuration import load_conf
from tests.scratch_project import PROJECT_ROOT, Completed, kedro, make_project_copy

pytestmark = [
    pytest.mark.integration,
    # Kedro's config loader registers its resolvers anew in a session run in this process.
    pytest.mark.filterwarnings("ignore:register_new_resolver:UserWarning"),
]

DEMO_TABLE = Path("data/01_raw/demo_table.parquet")
# The first rows of the committed demo table and two epochs keep the run to seconds.
ROWS = 300
EPOCHS = 2


def assert_succeeded(result: Completed) -> None:
    assert result.returncode == 0, (
        f"stdout:\n{result.stdout[-3000:]}\nstderr:\n{result.stderr[-3000:]}"
    )


@pytest.fixture(scope="module")
def project_copy(tmp_path_factory) -> Path:
    """A scratch copy of the project with the demo table's first rows."""
    project = make_project_copy(tmp_path_factory.mktemp("project"))
    pd.read_parquet(PROJECT_ROOT / DEMO_TABLE).head(ROWS).to_parquet(project / DEMO_TABLE)
    return project


@pytest.fixture(scope="module")
def kedro_run(project_copy: Path) -> Path:
    outcome = run_in_this_process(project_copy, "--params", f"training.epochs={EPOCHS}")
    assert outcome.exit_code == 0, outcome.output[-4000:]
    return project_copy / "data"


def test_kedro_run_saves_the_model_and_fitted_preprocessors(kedro_run, project_parameters):
    models = kedro_run / "06_models"

    model = keras.models.load_model(latest(models / "trained_model.keras"))
    # The neighbours' `columns: auto` finds no name the demo's rows share by the hundreds.
    configured = [name for name in MODALITIES if configured_columns(project_parameters[name])]
    assert sorted(tensor.name for tensor in model.inputs) == sorted(configured)
    assert (models / "untrained_model.keras").is_file()
    for modality in MODALITIES:
        with latest(models / f"{modality}_preprocessor.pkl").open("rb") as stream:
            preprocessor = pickle.load(stream)
        assert preprocessor.columns == configured_columns(project_parameters[modality]), modality
    with latest(models / "target_encoder.pkl").open("rb") as stream:
        assert pickle.load(stream).classes == [0, 1]


def test_kedro_run_saves_aligned_parquet_frames_and_npy_features(kedro_run):
    primary = pd.read_parquet(kedro_run / "03_primary" / "primary_table.parquet")
    assignments = pd.read_parquet(kedro_run / "03_primary" / "split_assignments.parquet")
    row_ids = primary["row_id"].tolist()

    assert len(primary) == ROWS
    assert assignments["row_id"].tolist() == row_ids
    encoded_target = pd.read_parquet(kedro_run / "05_model_input" / "encoded_target.parquet")
    assert encoded_target["row_id"].tolist() == row_ids
    for modality in ("categorical", "numerical"):
        encoded = np.load(kedro_run / "04_feature" / f"{modality}_features.npy")
        assert encoded.ndim == 2 and len(encoded) == ROWS, modality
    token_ids = np.load(kedro_run / "04_feature" / "text_token_ids.npy")
    pixels = np.load(kedro_run / "04_feature" / "image_tensors.npy")
    # text.sequence_length is auto: derived from the training texts, within its bounds.
    features = load_conf("parameters")["text"]
    # One text column, then the row of each training row's fold for the linear scores.
    assert token_ids.shape[:2] == (ROWS, 2)
    assert set(np.unique(token_ids[:, 1, 0])) == {0, *range(1, features["score_folds"] + 1)}
    assert features["min_sequence_length"] <= token_ids.shape[2] <= features["max_sequence_length"]
    assert token_ids.dtype == np.int32
    assert pixels.shape == (ROWS, 1, 32, 32, 3)
    assert pixels.dtype == np.uint8


def test_kedro_run_reports_metrics_history_and_figures(kedro_run):
    reporting = kedro_run / "08_reporting"

    metrics = json.loads(latest(reporting / "metrics.json").read_text())
    history = json.loads(latest(reporting / "training_history.json").read_text())

    assert metrics["task"] == "binary"
    assert 0.0 <= metrics["model"]["roc_auc"] <= 1.0
    assert len(history["loss"]) == EPOCHS
    figures = [
        latest(reporting / "learning_curves.png"),
        *sorted(latest(reporting / "evaluation_figures").glob("*.png")),
    ]
    assert {figure.name for figure in figures} == {
        "learning_curves.png",
        "confusion_matrix.png",
        "roc_curve.png",
    }
    for figure in figures:
        assert figure.read_bytes().startswith(b"\x89PNG"), figure
    predictions = pd.read_parquet(
        latest(kedro_run / "07_model_output" / "test_predictions.parquet")
    )
    assert len(predictions) == metrics["test_rows"]


# Two more runs of the project (about 25 s): with the slow tests. In the default suite,
# tests/integration/test_run_integrity.py scores with an earlier model by --load-versions.
@pytest.mark.slow
def test_retraining_keeps_the_earlier_model_which_reevaluates_with_load_versions(
    kedro_run, project_copy
):
    models, reporting = kedro_run / "06_models", kedro_run / "08_reporting"
    (first_model,) = versions(models / "trained_model.keras")
    (first_metrics,) = versions(reporting / "metrics.json")

    retrained = kedro(project_copy, "run", "--nodes", "train_model", "--params", "seed=1")
    assert_succeeded(retrained)
    assert versions(models / "trained_model.keras")[0] == first_model
    assert len(versions(models / "trained_model.keras")) == 2

    first_version = first_model.parent.name
    reevaluated = kedro(
        project_copy,
        "run",
        "--nodes",
        "evaluate_model,collect_metrics",
        "--load-versions",
        f"trained_model:{first_version}",
    )
    assert_succeeded(reevaluated)
    saved = versions(reporting / "metrics.json")
    assert saved[0] == first_metrics
    assert len(saved) == 2
    before, after = (json.loads(path.read_text()) for path in saved)
    assert after["test_rows"] == before["test_rows"]
    assert after["model"]["roc_auc"] == pytest.approx(before["model"]["roc_auc"], abs=1e-6)


def test_a_bad_table_stops_with_one_message_and_no_traceback(kedro_run, project_copy):
    (model_before,) = versions(kedro_run / "06_models" / "trained_model.keras")[:1]

    result = kedro(project_copy, "run", "--params", "table.target=price_in_euros")

    output = result.stdout + result.stderr
    assert result.returncode == 1
    assert (
        "Error: The run stopped: The raw table lacks the configured column(s) 'price_in_euros' "
        "(target)" in output
    )
    assert "Traceback" not in output
    assert "╭" not in output  # rich's traceback frame
    keras.models.load_model(model_before)
