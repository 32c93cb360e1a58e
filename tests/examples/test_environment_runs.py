"""Each example environment runs end to end in a scratch copy, in time, above its bar."""

from __future__ import annotations

import json

import numpy as np
import pytest
from environments import ENVIRONMENTS, MAX_SECONDS

from multimodal_keras.config_loader import data_folder_for
from tests.artifacts import latest
from tests.scratch_project import run_in, run_kedro

pytestmark = pytest.mark.integration


def majority_rate(confusion_matrix: list[list[int]]) -> float:
    """Test accuracy of always predicting the most frequent test class."""
    counts = np.asarray(confusion_matrix).sum(axis=1)
    return float(counts.max() / counts.sum())


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(ENVIRONMENTS))
def test_environment_runs_end_to_end_above_its_bar(project_copy, name):
    environment = ENVIRONMENTS[name]
    project = project_copy(raw_files=[f for f in environment.committed if not f.endswith(".md")])
    if not environment.committed:
        built = run_in(project, environment.script, timeout=MAX_SECONDS)
        assert built.returncode == 0, built.stderr[-2000:]

    completed = run_kedro(project, name, timeout=2 * MAX_SECONDS)

    assert completed.returncode == 0, completed.stderr[-3000:]
    assert completed.seconds < MAX_SECONDS
    metrics = json.loads(
        latest(project / data_folder_for(name) / "08_reporting/metrics.json").read_text()
    )
    model, baseline = metrics["model"], metrics["baseline"]
    assert model.keys() == baseline.keys()
    if environment.min_accuracy is not None:
        assert model["accuracy"] >= environment.min_accuracy
    if environment.min_margin_over_majority is not None:
        majority = majority_rate(model["confusion_matrix"])
        assert model["accuracy"] >= majority + environment.min_margin_over_majority
