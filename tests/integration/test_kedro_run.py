"""One default ``kedro run`` of a tiny project: its log, timings, report and run records."""

from __future__ import annotations

import importlib.util
import json
import re

import pytest

from multimodal_keras.pipeline_registry import register_pipelines
from tests.artifacts import latest
from tests.integration.conftest import ProjectRun

pytestmark = pytest.mark.integration

NODE_LINE = re.compile(
    r"\b(?P<node>[\w.]+): (?P<seconds>\d+\.\d\d) s, peak memory (?P<mib>\d+) MiB; read "
)
EPOCH_LINE = re.compile(r"^\S+ INFO +epoch \d+/\d+: .*\bloss [\d.e-]+", re.MULTILINE)
# TensorFlow's C++ log lines (absl: severity letter, date, time, thread, file:line]).
TENSORFLOW_CPP_LINE = re.compile(r"^[IWEF]\d{4} [\d:.]+ +\d+ [\w.]+:\d+\]", re.MULTILINE)


def default_node_names() -> set[str]:
    return {node.name for node in register_pipelines()["__default__"].nodes}


def test_every_node_logs_one_line_with_its_time_memory_and_shapes(tiny_run: ProjectRun):
    lines = [match for match in NODE_LINE.finditer(tiny_run.result.stdout)]
    logged = [match["node"] for match in lines]
    assert sorted(logged) == sorted(default_node_names())
    validate = next(match for match in lines if match["node"] == "validate_table")
    line = tiny_run.result.stdout[
        validate.start() : tiny_run.result.stdout.index("\n", validate.start())
    ]
    assert "raw_table 240x" in line and "primary_table 240x" in line


def test_each_epoch_is_one_log_line_when_output_is_not_a_terminal(tiny_run: ProjectRun):
    history = json.loads(latest(tiny_run.reporting / "training_history.json").read_text())
    assert len(EPOCH_LINE.findall(tiny_run.result.stdout)) == len(history["loss"])
    assert "━" not in tiny_run.result.stdout  # no progress bar outside a terminal


def test_the_terminal_shows_no_tensorflow_start_up_or_deprecation_lines(tiny_run: ProjectRun):
    printed = tiny_run.result.stdout + tiny_run.result.stderr
    assert not TENSORFLOW_CPP_LINE.search(printed)
    noises = ("absl::InitializeLog", "oneDNN", "cuda", "Deprecat", "deprecated", "Loading data")
    for noise in noises:
        assert noise not in printed, noise


def test_the_run_closes_with_its_metrics_artifacts_and_next_commands(tiny_run: ProjectRun):
    printed = tiny_run.result.stdout
    summary = printed[printed.index("Run finished in") :]
    tested = summary[summary.index("Test metrics:") : summary.index("Written:")].splitlines()
    metrics = json.loads(latest(tiny_run.reporting / "metrics.json").read_text())
    model_line = next(line for line in tested if line.lstrip().startswith("model "))
    assert f"roc_auc {metrics['model']['roc_auc']:.4f}" in model_line
    assert any(line.lstrip().startswith("baseline ") for line in tested)
    written = summary[summary.index("Written:") : summary.index("Next:")].splitlines()
    for label in ("model", "report", "test predictions", "serving model"):
        line = next(line for line in written if line.lstrip().startswith(label + " "))
        assert (tiny_run.project / line.split()[-1]).exists(), line
    assert "kedro run --pipelines inference" in summary[summary.index("Next:") :]


def test_run_timings_hold_every_node_with_wall_time_and_peak_memory(tiny_run: ProjectRun):
    timings = json.loads((tiny_run.reporting / "run_timings.json").read_text())
    assert {record["node"] for record in timings["nodes"]} == default_node_names()
    assert all(
        record["seconds"] >= 0 and record["peak_memory_mib"] > 0 for record in timings["nodes"]
    )
    assert timings["total_seconds"] >= max(record["seconds"] for record in timings["nodes"])
    train = next(record for record in timings["nodes"] if record["node"] == "train_model")
    assert train["outputs"]["trained_model"].startswith("model of ")


def test_the_run_report_is_one_self_contained_file_with_every_section(tiny_run: ProjectRun):
    document = latest(tiny_run.reporting / "run_report.html").read_text()
    for anchor in (
        "configuration",
        "data",
        "preprocessing",
        "training",
        "metrics",
        "test-figures",
        "importance",
    ):
        assert f'<section id="{anchor}">' in document
    assert document.count('src="data:image/png;base64,') == 4  # curves, confusion, ROC, importance
    assert not re.search(r"""(src|href)=["']?(https?:|//)""", document)
    for modality in ("categorical", "numerical", "text", "image"):
        assert f"<h3>{modality}</h3>" in document


def test_modality_importance_is_saved_for_every_modality(tiny_run: ProjectRun):
    importance = json.loads(latest(tiny_run.reporting / "modality_importance.json").read_text())
    assert set(importance["modalities"]) == {"categorical", "numerical", "text", "image"}
    assert importance["repeats"] == tiny_run.parameters["modality_importance"]["repeats"]
    assert (latest(tiny_run.reporting / "modality_importance.png")).stat().st_size > 0


def test_run_records_are_in_mlruns_exactly_when_the_mlflow_extra_is_installed(
    tiny_run: ProjectRun, monkeypatch: pytest.MonkeyPatch
):
    mlruns = tiny_run.project / "mlruns"
    if importlib.util.find_spec("kedro_mlflow") is None:
        assert not mlruns.exists()
        return
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=mlruns.resolve().as_uri())
    experiment = client.get_experiment_by_name("multimodal_keras")
    (run,) = client.search_runs([experiment.experiment_id])
    assert run.data.params["training.epochs"] == str(tiny_run.parameters["training"]["epochs"])
    assert "metrics.model.roc_auc" in run.data.metrics
    assert "modality_importance.modalities.image.mean_drop" in run.data.metrics
    history = client.get_metric_history(run.info.run_id, "training_history.loss")
    assert [point.step for point in history] == list(range(1, len(history) + 1))

    def listed(path: str | None = None) -> set[str]:
        return {item.path for item in client.list_artifacts(run.info.run_id, path)}

    assert {"figures", "model", "metrics.json", "run_report.html"} <= listed()
    assert {
        "figures/learning_curves.png",
        "figures/confusion_matrix.png",
        "figures/modality_importance.png",
    } <= listed("figures")
    assert listed("model") == {"model/trained_model.keras"}
