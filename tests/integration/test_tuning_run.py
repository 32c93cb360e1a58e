"""`kedro run --pipelines tuning` on a copy of the tiny project, then training with its result.

The copy is the tiny project after its default ``kedro run``; both commands run in this
process (Click's runner, as the bad-inputs suite runs them): 2 trials (``SMALL``)
of one epoch, then training for one epoch.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

from multimodal_keras.search_space import flattened, setting_columns
from tests.artifacts import latest
from tests.bad_inputs.conftest import kedro_run
from tests.integration.conftest import ProjectRun

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def tuned_project(tiny_run: ProjectRun, tmp_path_factory) -> dict[str, Any]:
    """The tiny project searched, then trained with ``training.use_tuned``."""
    project = tmp_path_factory.mktemp("tuned_project") / "project"
    shutil.copytree(tiny_run.project, project)
    searched = kedro_run(project, "--pipelines", "tuning", "--params", "training.epochs=1")
    assert searched.exit_code == 0, searched.output[-4000:]
    trained = kedro_run(
        project,
        "--from-nodes",
        "build_model",
        "--params",
        "training.use_tuned=true,training.epochs=1",
    )
    assert trained.exit_code == 0, trained.output[-4000:]
    return {"project": project, "searched": searched, "trained": trained}


def reporting(project: Path) -> Path:
    return project / "data" / "08_reporting"


def tuned_file(project: Path) -> Path:
    return latest(project / "data" / "06_models" / "tuned_parameters.yml")


def test_the_default_run_neither_reads_nor_records_a_search(tiny_run: ProjectRun):
    metrics = json.loads(latest(tiny_run.reporting / "metrics.json").read_text())
    report = latest(tiny_run.reporting / "run_report.html").read_text()

    assert "tuned_parameters" not in metrics
    assert 'id="tuning"' not in report
    assert not (tiny_run.project / "data" / "06_models" / "tuning").exists()


# The search and the retraining through `kedro run` (about 35 s): with the slow tests.
# tests/model/test_tuning.py runs the search itself (trials, resumption, budget, the test
# rows left unread) in the default suite.
@pytest.mark.slow
def test_the_search_writes_its_settings_trials_and_figures(tuned_project):
    project: Path = tuned_project["project"]
    trials = pd.read_parquet(latest(reporting(project) / "tuning_trials.parquet"))
    tuned = yaml.safe_load(tuned_file(project).read_text())
    figures = latest(reporting(project) / "tuning_figures")

    assert trials["trial"].tolist() == [1, 2]
    assert set(trials["status"]) == {"completed"}
    # Only the searched keys, nested as in conf/: the space less the towers' of no column.
    assert set(tuned) == {"model", "training"}
    assert sorted(flattened(tuned)) == sorted(setting_columns(trials))
    assert sorted(path.name for path in figures.iterdir()) == ["scores.png", "settings.png"]
    states = list((project / "data" / "06_models" / "tuning").glob("search_*/oracle.json"))
    assert len(states) == 1


@pytest.mark.slow
def test_training_with_use_tuned_reproduces_the_best_trial_and_records_it(tuned_project):
    project: Path = tuned_project["project"]
    trials = pd.read_parquet(latest(reporting(project) / "tuning_trials.parquet"))
    history = json.loads(latest(reporting(project) / "training_history.json").read_text())
    metrics = json.loads(latest(reporting(project) / "metrics.json").read_text())
    report = latest(reporting(project) / "run_report.html").read_text()
    tuned = yaml.safe_load(tuned_file(project).read_text())

    # The same seed, settings and rows: the model trains as the best trial did.
    assert max(history["val_auc"]) == pytest.approx(trials["score"].max(), abs=1e-6)
    record = metrics["tuned_parameters"]
    assert record["version"] == tuned_file(project).parent.name
    assert record["settings"] == flattened(tuned)
    assert "The model trained with the tuned settings of tuned_parameters" in report
    assert 'id="tuning"' in report and "Search of settings" in report
