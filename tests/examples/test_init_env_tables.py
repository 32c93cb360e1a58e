"""`kedro init-env` on four real tables: the drafted environment trains with no edit, and
scores within 0.01 of a hand-written configuration of the same table on the same rows.

The tables are the committed samples of tests/data/drafting (README.md there): a census
with `?` markers, a regression, free text, images by path. Both configurations train the
same way (a few epochs, via --params) in one scratch project: the drafted one the whole
default pipeline, the hand-written one up to evaluate_model. The commands are the project's
own click commands, run in this process (tests/scratch_project.invoke) so that TensorFlow starts
once; tests/test_init_env.py checks that `kedro` itself lists init-env.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from multimodal_keras.config_loader import data_folder_for
from tests.artifacts import latest
from tests.scratch_project import PROJECT_ROOT, invoke, make_project_copy

pytestmark = pytest.mark.integration

SAMPLES = PROJECT_ROOT / "tests" / "data" / "drafting"
SPEC = yaml.safe_load((SAMPLES / "samples.yml").read_text())
# Few epochs, the same for both configurations (enough for the images to beat chance), and
# a cheaper baseline and modality importance, which only the drafted environment's full
# run reaches: for speed, not for the metric compared.
EPOCHS = {"fashion_mnist": 5}
QUICK = "training.verbose=0,modality_importance.repeats=1,baseline.gradient_boosting.max_iter=10"
# The test metric compared, per task: scale-free, so that 0.01 means the same everywhere.
HEADLINE = {"binary": "roc_auc", "multiclass": "accuracy", "regression": "r2"}
TOLERANCE = 0.01
MODALITIES = ["categorical", "numerical", "text", "image"]


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    """A scratch project with every sample under data/01_raw and its hand-written environment."""
    project = make_project_copy(tmp_path_factory.mktemp("drafting") / "project")
    for name in SPEC["tables"]:
        shutil.copytree(SAMPLES / name, project / "data" / "01_raw" / name, dirs_exist_ok=True)
        hand_written = project / "conf" / f"{name}_hand_written"
        shutil.copytree(SAMPLES / name / "hand_written", hand_written)
    return project


def columns(environment: Path) -> dict[str, list[str]]:
    """Each modality's columns in an environment's parameters.yml."""
    parameters = yaml.safe_load((environment / "parameters.yml").read_text())
    return {modality: parameters[modality]["columns"] for modality in MODALITIES}


def headline(project: Path, environment: str) -> tuple[str, float]:
    """The task and the model's headline test metric of an environment's latest run."""
    saved = latest(project / data_folder_for(environment) / "08_reporting" / "model_metrics.json")
    metrics = json.loads(saved.read_text())
    return metrics["task"], metrics["model"][HEADLINE[metrics["task"]]]


# Each table drafts and trains twice (about 20 s apiece): with the slow tests
# (`pytest -m slow`). tests/test_init_env.py checks the drafting itself in the default suite.
@pytest.mark.slow
@pytest.mark.parametrize("name", list(SPEC["tables"]))
def test_drafted_environment_trains_and_scores_as_the_hand_written_one(project, name):
    table = SPEC["tables"][name]
    drafted = f"{name}_drafted"
    path = f"data/01_raw/{name}/{table['file']}"

    quick = f"{QUICK},training.epochs={EPOCHS.get(name, 2)}"

    init = invoke(project, "init-env", drafted, "--table", path, "--target", table["target"])
    assert init.returncode == 0, init.stdout[-3000:]
    run = invoke(project, "run", "--env", drafted, "--params", quick)
    assert run.returncode == 0, run.stdout[-3000:]
    by_hand = invoke(
        project, "run", "--env", f"{name}_hand_written", "--to-nodes", "evaluate_model",
        "--params", quick,
    )  # fmt: skip
    assert by_hand.returncode == 0, by_hand.stdout[-3000:]

    # The draft sorts the columns as the hand-written configuration does.
    assert columns(project / "conf" / drafted) == columns(SAMPLES / name / "hand_written")
    task, metric = headline(project, drafted)
    hand_task, hand_metric = headline(project, f"{name}_hand_written")
    assert task == hand_task
    assert metric == pytest.approx(hand_metric, abs=TOLERANCE), (name, metric, hand_metric)
    print(
        f"{name}: drafted {metric:.4f}, hand-written {hand_metric:.4f} ({HEADLINE[task]}); "
        f"runs {run.seconds:.1f} s and {by_hand.seconds:.1f} s"
    )
