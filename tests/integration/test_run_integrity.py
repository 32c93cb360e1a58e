"""One run's artifacts belong together, as a user meets it from the command line.

One tiny project, trained once, then changed the ways that used to mix runs silently:
an environment trained beside it, one namespace rerun with other parameters, a planted
pickle, a second run while one is going, and commands run before any training.

The trained project is a copy of the tiny project after its default ``kedro run``
(``tiny_run``, tests/integration/conftest.py, which other tests only read). Inference
before any training and the two runs that meet the run lock are ``python -m kedro``
processes: a terminal of their own, and a lock held by another process. The reruns,
scoring and refusals after training run in this process (Click's runner, as
tests/bad_inputs runs them, with the run's log records in the output), so that each
costs its run and not a TensorFlow start-up too.
"""

from __future__ import annotations

import html
import json
import os
import pickle
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from multimodal_keras.integrity import LOCK_FILE
from tests.artifacts import latest
from tests.bad_inputs.conftest import Outcome, kedro_run
from tests.integration.conftest import ProjectRun
from tests.scratch_project import kedro, make_small_project, subprocess_environment

pytestmark = [
    pytest.mark.integration,
    # Kedro's config loader registers its resolvers anew in every session run in this process.
    pytest.mark.filterwarnings("ignore:register_new_resolver:UserWarning"),
]

NEW_ROWS = "data/01_raw/demo_table.parquet"  # the tiny table itself: its target is ignored
PREDICTIONS = "data/07_model_output/scored.parquet"
# `kedro run` options that score the tiny table with the inference pipeline.
SCORE = ("--pipelines", "inference",
         "--params", f"new_rows_file={NEW_ROWS},predictions_file={PREDICTIONS}")  # fmt: skip
INFERENCE = ("run", *SCORE)


class Planted:
    """A pickle that runs a command when it is unpickled."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def output(result: subprocess.CompletedProcess | Outcome) -> str:
    if isinstance(result, Outcome):  # run in this process: log records and Click's output
        return result.output
    return result.stdout + result.stderr


@pytest.fixture(scope="module")
def fresh_inference(tmp_path_factory) -> subprocess.CompletedProcess:
    """``kedro run --pipelines inference`` in a small project that was never trained."""
    untrained, _ = make_small_project(tmp_path_factory.mktemp("untrained"))
    return kedro(untrained, *INFERENCE)


@pytest.fixture(scope="module")
def project(tiny_run: ProjectRun, tmp_path_factory) -> Path:
    """A copy of the tiny project after its one default ``kedro run``: one version of each
    artifact. The tests below change it; ``tiny_run`` itself is only read."""
    path = tmp_path_factory.mktemp("integrity") / "project"
    shutil.copytree(tiny_run.project, path)
    return path


@pytest.fixture(scope="module")
def trained(project) -> pd.DataFrame:
    """The predictions the project's trained model makes on the tiny table."""
    scored = kedro_run(project, *SCORE)
    assert scored.exit_code == 0, output(scored)[-3000:]
    return pd.read_parquet(project / PREDICTIONS)


def test_inference_before_any_training_says_to_train_first_without_a_traceback(
    fresh_inference,
):
    assert fresh_inference.returncode == 1
    text = output(fresh_inference)
    assert "has not been written yet" in text
    assert "train first with `kedro run`" in text
    assert "Traceback" not in text


def test_a_second_run_in_one_environment_is_refused_and_other_environments_are_apart(
    project, trained
):
    (project / "conf" / "other").mkdir()
    (project / "conf" / "other" / "parameters.yml").write_text("seed: 5\n")
    first = subprocess.Popen(
        [sys.executable, "-m", "kedro", "run", "--env", "other", "--to-nodes", "train_model"],
        cwd=project, env=subprocess_environment(),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    folder = project / "data" / "other"
    lock = folder / LOCK_FILE
    try:
        deadline = time.monotonic() + 120
        while not lock.exists() and first.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        assert lock.exists(), "the first run never took the lock"
        second = kedro(project, "run", "--env", "other", "--to-nodes", "split_rows")
    finally:
        assert first.wait(timeout=300) == 0
    assert second.returncode == 1
    assert f"another run is using {folder}" in output(second)
    assert f"process {first.pid}" in output(second)
    assert "Traceback" not in output(second)
    assert not lock.exists()
    assert latest(folder / "06_models" / "trained_model.keras").is_file()
    assert len(list((project / "data" / "06_models" / "trained_model.keras").iterdir())) == 1


def test_the_lineage_keeps_the_missing_value_markers_validation_applied(project, trained):
    lineage = json.loads(latest(project / "data/06_models/model_lineage.json").read_text())
    markers = latest(project / "data/06_models/missing_value_markers.json")
    assert lineage["artifacts"]["missing_value_markers"]["version"] == markers.parent.name


def test_a_rerun_reusing_artifacts_made_with_other_values_says_so_and_the_report_shows_them(
    project, trained
):
    # The numerical features are remade with robust scaling, then the model is retrained
    # from them while the configuration still says standard.
    rerun = kedro_run(project, "--namespaces", "numerical", "--params", "numerical.scaling=robust")
    assert rerun.exit_code == 0, output(rerun)[-3000:]
    retrained = kedro_run(project, "--from-nodes", "build_model")
    assert retrained.exit_code == 0, output(retrained)[-3000:]

    text = output(retrained)
    assert "numerical.preprocessor" in text
    assert "made with numerical.scaling 'robust'" in text
    assert "its own parameters say numerical.scaling 'standard'" in text
    assert "`kedro run --from-nodes " in text
    lineage = json.loads(latest(project / "data/06_models/model_lineage.json").read_text())
    assert lineage["parameters"]["params:numerical"]["scaling"] == "robust"
    report = html.unescape(latest(project / "data/08_reporting/run_report.html").read_text())
    assert "scaling: robust" in report and "scaling: standard" not in report
    assert "This run's parameters say numerical.scaling 'standard'" in report


def test_a_namespace_rerun_is_refused_by_inference_and_evaluation_with_the_fix(project, trained):
    rerun = kedro_run(project, "--namespaces", "numerical", "--params", "numerical.scaling=minmax")
    assert rerun.exit_code == 0, output(rerun)[-3000:]
    marker = project / "planted_pickle_ran"
    planted = project / "data/06_models/text_preprocessor.pkl/2099-01-01T00.00.00.000Z"
    planted.mkdir()
    (planted / "text_preprocessor.pkl").write_bytes(pickle.dumps(Planted(marker)))
    # The model the fixture trained is the first version; the test above trained the latest.
    models = sorted((project / "data/06_models/trained_model.keras").iterdir())
    model_version, latest_model = models[0].name, models[-1].name

    refused = kedro_run(project, *SCORE)
    scored = kedro_run(project, *SCORE, "--load-versions", f"trained_model:{model_version}")
    evaluated = kedro_run(project, "--from-nodes", "evaluate_model")

    text = output(refused)
    assert refused.exit_code == 1
    assert "`numerical.preprocessor` on disk" in text and "was saved after the model" in text
    assert f"--load-versions trained_model:{latest_model}" in text
    assert scored.exit_code == 0, output(scored)[-3000:]
    assert "Using the artifacts the model" in output(scored)
    pd.testing.assert_frame_equal(pd.read_parquet(project / PREDICTIONS), trained)
    assert not marker.exists()
    assert evaluated.exit_code == 1
    text = output(evaluated)
    assert "`numerical.features`" in text and "is not what the model" in text
    assert "kedro run --from-nodes train_model" in text
    for result in (refused, evaluated):
        assert "Traceback" not in output(result)


def test_a_split_made_again_alone_stops_training_on_artifacts_fitted_before_it(
    tiny_run: ProjectRun, tmp_path
):
    project = tmp_path / "project"
    shutil.copytree(tiny_run.project, project)
    models = project / "data/06_models/trained_model.keras"
    before = sorted(models.iterdir())

    # Another seed's split, while every fitted artifact keeps the first split's statistics.
    resplit = kedro_run(project, "--nodes", "split_rows", "--params", "seed=7")
    retrained = kedro_run(project, "--from-nodes", "build_model", "--params", "seed=7")
    after_refusal = sorted(models.iterdir())
    refitted = kedro_run(project, "--from-nodes", "split_rows", "--params", "seed=7")

    assert resplit.exit_code == 0, output(resplit)[-3000:]
    assert retrained.exit_code == 1
    text = output(retrained)
    assert "were fitted on other training rows than `split_assignments` now holds" in text
    assert "`numerical.preprocessor`" in text and "`target_encoder`" in text
    assert "`kedro run --from-nodes split_rows`" in text
    assert "Traceback" not in text
    assert after_refusal == before
    # The command the message gives refits every artifact on the new split and trains.
    assert refitted.exit_code == 0, output(refitted)[-3000:]
    assert len(list(models.iterdir())) == len(before) + 1
