"""What a run prints: TensorFlow's start-up lines silenced unless asked for, the summary."""

from __future__ import annotations

import logging
import subprocess
import sys

import pytest

from multimodal_keras.terminal import QUIET_LEVELS, apply_verbosity, brief, summary_lines
from tests.scratch_project import subprocess_environment

IMPORT_BOTH = "import multimodal_keras, tensorflow; print(tensorflow.constant(1).numpy())"


def import_output(**environment: str) -> subprocess.CompletedProcess:
    """Import the project and TensorFlow in a fresh process; what it printed."""
    return subprocess.run(
        [sys.executable, "-c", IMPORT_BOTH],
        env=subprocess_environment(**environment),
        capture_output=True,
        text=True,
        check=True,
    )


@pytest.mark.integration
def test_importing_tensorflow_through_the_project_prints_nothing_but_the_result():
    done = import_output()
    assert done.stdout.strip() == "1"
    assert done.stderr == ""


@pytest.mark.integration
def test_tf_cpp_min_log_level_zero_brings_tensorflow_start_up_lines_back():
    done = import_output(TF_CPP_MIN_LOG_LEVEL="0")
    assert done.stdout.strip() == "1"
    assert "cuda" in done.stderr or "oneDNN" in done.stderr


@pytest.fixture
def restore_levels():
    levels = {name: logging.getLogger(name).level for name in QUIET_LEVELS}
    yield
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


@pytest.mark.parametrize("verbosity", ["quiet", "verbose"])
def test_verbosity_sets_kedro_s_loggers(restore_levels, verbosity):
    apply_verbosity(verbosity)
    levels = {name: logging.getLogger(name).level for name in QUIET_LEVELS}
    if verbosity == "verbose":
        assert set(levels.values()) == {logging.INFO}
    else:
        assert levels == QUIET_LEVELS


def test_the_summary_names_metrics_artifacts_and_next_commands_for_the_environment():
    metrics = {"model": {"roc_auc": 0.9412, "n": 3}, "baseline": {"roc_auc": 0.8858}}
    written = {"model": "data/houses/06_models/m.keras"}
    lines = summary_lines(41.6, "houses", "local", metrics, written)
    assert lines[0] == "Run finished in 42 s (environment houses)."
    assert "  model     roc_auc 0.9412" in lines
    assert "  baseline  roc_auc 0.8858" in lines
    assert "  model  data/houses/06_models/m.keras" in lines
    assert any("kedro run --pipelines inference --env houses" in line for line in lines)
    assert any(line.strip().startswith("KEDRO_ENV=houses kedro viz run") for line in lines)


def test_a_run_without_metrics_has_no_next_commands():
    lines = summary_lines(0.2, "local", "local", None, {})
    assert lines == ["Run finished in 0 s (environment local)."]


def test_brief_counts_long_values_instead_of_printing_them():
    categories = {f"c{i}": list(range(50)) for i in range(7)}
    description = {"columns": ["a", "b"], "categories": categories}
    assert brief(description) == "columns ['a', 'b'], categories (7 entries)"
