"""The seed's 5-row tables run through the whole pipeline: they train where the split allows
it, and otherwise stop with one sentence that names the problem and the minimum needed."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

os.environ.setdefault("KEDRO_DISABLE_TELEMETRY", "1")

import pandas as pd  # noqa: E402
import pytest  # noqa: E402
import yaml  # noqa: E402
from click.testing import CliRunner  # noqa: E402
from kedro.framework.startup import bootstrap_project  # noqa: E402
from kedro.io import DataCatalog, MemoryDataset  # noqa: E402
from kedro.runner import SequentialRunner  # noqa: E402
from seed_tables import COLUMNS, TABLES, TARGET  # noqa: E402

from multimodal_keras.cli import cli  # noqa: E402
from multimodal_keras.errors import MultimodalKerasError  # noqa: E402
from multimodal_keras.pipeline_registry import register_pipelines  # noqa: E402
from tests.configuration import deep_update, small_changes  # noqa: E402
from tests.scratch_project import run_kedro  # noqa: E402
from tests.test_pipeline_registry import OPTIONAL_INPUTS, KeptMemoryDataset, NothingSaved

pytestmark = pytest.mark.integration

# A split that gives 5 rows 3 for training, 1 for validation and 1 for testing, with a seed
# that puts both classes of every seed table among the training rows.
SPLIT_THAT_TRAINS = {"test_fraction": 0.2, "validation_fraction": 0.2, "stratify": False}
TRAINING_SEED = 0
# The small project's settings, in batches that a seed table's training rows fill.
SMALL = small_changes({"training": {"batch_size": 4, "verbose": 0}})
FEW_TREES = 10


def _parameters(base: dict[str, Any], seed_table: str, **overrides: Any) -> dict[str, Any]:
    params = deep_update(base, SMALL)
    params["table"]["target"] = TARGET
    for modality, columns in COLUMNS[seed_table].items():
        params[modality]["columns"] = columns
    for section, values in overrides.items():
        if isinstance(values, dict):
            params[section].update(values)
        else:
            params[section] = values
    params["baseline"]["gradient_boosting"]["max_iter"] = FEW_TREES
    return params


def run_in_memory(raw_table: pd.DataFrame, params: dict[str, Any]) -> DataCatalog:
    """Run the default pipeline with every dataset in memory; returns the filled catalog."""
    pipeline = register_pipelines()["__default__"]
    datasets = {
        name: KeptMemoryDataset(copy_mode="assign")
        for name in pipeline.datasets()
        if not name.startswith("params:")
    }
    datasets["raw_table"] = MemoryDataset(raw_table)
    datasets.update({name: NothingSaved() for name in OPTIONAL_INPUTS})
    datasets.update({f"params:{key}": MemoryDataset(value) for key, value in params.items()})
    datasets["parameters"] = MemoryDataset(params)
    catalog = DataCatalog(datasets)
    SequentialRunner().run(pipeline, catalog)
    return catalog


@pytest.mark.parametrize("table", sorted(TABLES))
def test_seed_table_trains_when_the_split_allows_it(base_parameters, table):
    params = _parameters(base_parameters, table, split=SPLIT_THAT_TRAINS, seed=TRAINING_SEED)
    catalog = run_in_memory(TABLES[table](), params)
    metrics = catalog.load("metrics")
    assert metrics["test_rows"] == 1
    assert metrics["model"].keys() == metrics["baseline"].keys()
    assert len(catalog.load("training_history")["loss"]) == SMALL["training"]["epochs"]


@pytest.mark.parametrize("table", sorted(TABLES))
def test_seed_table_with_the_default_stratified_split_names_the_class_and_minimum(
    base_parameters, table
):
    params = _parameters(base_parameters, table)
    with pytest.raises(MultimodalKerasError) as caught:
        run_in_memory(TABLES[table](), params)
    message = str(caught.value)
    assert "only 2 rows" in message and "at least 3 rows of every class" in message


def test_a_class_with_a_single_row_is_named(base_parameters):
    params = _parameters(base_parameters, "categorical_numerical", table={"target": "location"})
    params["categorical"]["columns"] = ["membership_type"]
    with pytest.raises(MultimodalKerasError, match=r"'Tokyo' \(1 row\)"):
        run_in_memory(TABLES["categorical_numerical"](), params)


def test_an_empty_split_is_named_with_the_rows_needed(base_parameters):
    split = {"test_fraction": 0.5, "validation_fraction": 0.4, "stratify": False}
    params = _parameters(base_parameters, "text_numerical", split=split)
    with pytest.raises(MultimodalKerasError, match="train split would be empty.*at least 10 rows"):
        run_in_memory(TABLES["text_numerical"](), params)


def test_a_class_missing_from_the_training_rows_is_reported(base_parameters):
    # With seed 42 the three training rows of the image table are all of class 1.
    params = _parameters(base_parameters, "image_numerical", split=SPLIT_THAT_TRAINS, seed=42)
    with pytest.raises(MultimodalKerasError, match="no training row has"):
        run_in_memory(TABLES["image_numerical"](), params)


def _seed_environment(project: Path) -> None:
    """conf/seed: the seed's first table, with the project's default (stratified) split."""
    TABLES["categorical_numerical"]().to_csv(project / "data/01_raw/seed.csv", index=False)
    environment = project / "conf" / "seed"
    environment.mkdir()
    catalog = {"raw_table": {"type": "pandas.CSVDataset", "filepath": "data/01_raw/seed.csv"}}
    parameters = {"table": {"target": TARGET}} | {
        modality: {"columns": columns}
        for modality, columns in COLUMNS["categorical_numerical"].items()
    }
    (environment / "catalog.yml").write_text(yaml.safe_dump(catalog))
    (environment / "parameters.yml").write_text(yaml.safe_dump(parameters))


EXPECTED_START = "Error: The run stopped: In target column 'target', class '0' has only 2 rows"
EXPECTED_END = "or set split.stratify to false."


def test_the_run_command_reports_the_problem_in_one_sentence(project_copy, monkeypatch):
    project = project_copy()
    _seed_environment(project)
    monkeypatch.chdir(project)
    bootstrap_project(project)

    result = CliRunner().invoke(cli, ["run", "--env", "seed"])

    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)
    last_line = result.output.strip().splitlines()[-1]
    assert last_line.startswith(EXPECTED_START) and last_line.endswith(EXPECTED_END)


@pytest.mark.slow
def test_kedro_run_reports_the_problem_in_one_sentence_without_a_traceback(project_copy):
    project = project_copy()
    _seed_environment(project)

    completed = run_kedro(project, "seed", timeout=300)

    assert completed.returncode == 1
    assert "Traceback" not in completed.stdout + completed.stderr
    last_line = completed.stderr.strip().splitlines()[-1]
    assert last_line.startswith(EXPECTED_START) and last_line.endswith(EXPECTED_END)
