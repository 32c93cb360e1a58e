"""`kedro init-env` as a user meets it: the files it writes from CSV, Parquet and other
tables, its refusal to overwrite an environment, and one sentence for each mistake."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml
from click.testing import CliRunner
from PIL import Image

from multimodal_keras.cli import cli
from tests.configuration import load_conf
from tests.scratch_project import make_project_copy, subprocess_environment

ROWS = 40
STOPPED = "Error: No environment was drafted: "


@pytest.fixture
def project(tmp_path: Path, monkeypatch) -> Path:
    """A scratch copy of the project, with an empty conf/local, as the current folder."""
    project = make_project_copy(tmp_path / "project")
    monkeypatch.chdir(project)
    return project


def shop_table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "colour": ["red", "green", "?", "blue"] * (ROWS // 4),
            "price": [float(i) + 0.5 for i in range(ROWS)],
            "sold": ["no", "yes"] * (ROWS // 2),
        }
    )


def init_env(*arguments: str, env: dict[str, str] | None = None):
    """``kedro init-env ARGUMENTS`` in this process: exit code and what the terminal shows."""
    result = CliRunner(env=env).invoke(cli, ["init-env", *arguments], catch_exceptions=True)
    output = result.output
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        output += f"\nTraceback (most recent call last):\n{result.exception!r}"
    return result.exit_code, output


def stopped_with(code: int, output: str) -> str:
    """The one sentence a refused command printed (and no traceback)."""
    assert code == 1, output
    assert "Traceback" not in output, output
    (line,) = [line for line in output.splitlines() if line.startswith(STOPPED)]
    return line.removeprefix(STOPPED)


def load(project: Path, name: str, file: str) -> dict:
    return yaml.safe_load((project / "conf" / name / file).read_text())


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_csv_and_parquet_tables_give_an_environment_with_base_s_catalog_metadata(project, suffix):
    path = project / "data" / f"shop{suffix}"
    getattr(shop_table(), f"to_{suffix[1:]}")(path, index=False)

    code, output = init_env("shop", "--table", f"data/shop{suffix}", "--target", "sold")

    assert code == 0, output
    catalog = load(project, "shop", "catalog.yml")
    base = load_conf("catalog", project / "conf")["raw_table"]
    assert catalog == {
        "raw_table": {
            "type": "pandas.CSVDataset" if suffix == ".csv" else "pandas.ParquetDataset",
            "filepath": f"data/shop{suffix}",
            "metadata": base["metadata"],
        }
    }
    parameters = load(project, "shop", "parameters.yml")
    assert parameters["table"]["task"] == "binary"
    assert parameters["table"]["missing_values"] == ["?"]
    assert parameters["categorical"]["columns"] == ["colour"]
    assert parameters["numerical"]["columns"] == ["price"]
    assert "Check the draft, then: kedro run --env shop" in output


def test_an_image_bytes_table_keeps_kedro_viz_s_preview_off(project):
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buffer, format="PNG")
    table = shop_table().assign(photo=[buffer.getvalue()] * ROWS)
    table.to_parquet(project / "data" / "photos.parquet")

    code, output = init_env("photos", "--table", "data/photos.parquet", "--target", "sold")

    assert code == 0, output
    catalog = load(project, "photos", "catalog.yml")["raw_table"]
    assert catalog["metadata"]["kedro-viz"] == {"layer": "raw", "preview": False}
    parameters = load(project, "photos", "parameters.yml")
    assert parameters["image"] == {
        "columns": ["photo"], "source": "bytes", "height": 8, "width": 8, "channels": 3,
    }  # fmt: skip


def test_any_kedro_datasets_type_reads_with_its_load_args(project):
    shop_table().to_json(project / "data" / "shop.records", orient="records", lines=True)

    code, output = init_env(
        "shop", "--table", "data/shop.records", "--target", "sold",
        "--dataset-type", "pandas.JSONDataset", "--load-args", "{orient: records, lines: true}",
    )  # fmt: skip

    assert code == 0, output
    entry = load(project, "shop", "catalog.yml")["raw_table"]
    assert entry["type"] == "pandas.JSONDataset"
    assert entry["load_args"] == {"orient": "records", "lines": True}
    assert load(project, "shop", "parameters.yml")["numerical"]["columns"] == ["price"]


def test_dataset_arguments_name_credentials_as_a_catalog_does(project):
    shop_table().to_json(project / "data" / "shop.json", orient="records")
    (project / "conf" / "local" / "credentials.yml").write_text("files: {auto_mkdir: false}\n")

    code, output = init_env(
        "shop", "--table", "data/shop.json", "--target", "sold",
        "--load-args", "{orient: records}", "--dataset-args", "{credentials: files}",
    )  # fmt: skip

    assert code == 0, output
    entry = load(project, "shop", "catalog.yml")["raw_table"]
    assert entry["credentials"] == "files"  # a name in credentials.yml, resolved when read


def test_credentials_the_configuration_lacks_are_named(project):
    shop_table().to_json(project / "data" / "shop.json", orient="records")

    said = stopped_with(
        *init_env(
            "shop", "--table", "data/shop.json", "--target", "sold",
            "--dataset-args", "{credentials: files}",
        )
    )  # fmt: skip

    assert said.startswith(
        "The table's catalog entry cannot be made (Unable to find credentials 'files'"
    )


def test_a_large_table_is_drafted_from_a_sample_of_the_rows_asked_for(project):
    shop_table().to_csv(project / "data" / "shop.csv", index=False)

    code, output = init_env(
        "shop", "--table", "data/shop.csv", "--target", "sold", "--sample-rows", "20"
    )

    assert code == 0, output
    text = (project / "conf" / "shop" / "parameters.yml").read_text()
    assert "from a random sample of 20 of the 40 rows of data/shop.csv" in " ".join(
        line.lstrip("# ") for line in text.splitlines()[:3]
    )


def test_an_existing_environment_is_refused_unless_forced(project):
    shop_table().to_csv(project / "data" / "shop.csv", index=False)
    arguments = ("shop", "--table", "data/shop.csv", "--target", "sold")
    assert init_env(*arguments)[0] == 0
    (project / "conf" / "shop" / "parameters.yml").write_text("table: {target: edited}\n")
    (project / "conf" / "shop" / "parameters_quick.yml").write_text("training: {epochs: 1}\n")

    refused = stopped_with(*init_env(*arguments))
    edited = load(project, "shop", "parameters.yml")
    code, output = init_env(*arguments, "--force")

    assert refused == (
        "The environment conf/shop already exists; choose another name, or add --force to "
        "replace its catalog.yml and parameters.yml."
    )
    assert edited == {"table": {"target": "edited"}}
    assert code == 0, output
    assert load(project, "shop", "parameters.yml")["table"]["target"] == "sold"
    assert (project / "conf" / "shop" / "parameters_quick.yml").exists()
    assert "Left as they were in shop/: parameters_quick.yml." in output


@pytest.mark.parametrize(
    ("arguments", "sentence"),
    [
        (
            ("--table", "data/nope.csv", "--target", "sold"),
            "There is no table at 'data/nope.csv' (looked for {project}/data/nope.csv); give "
            "--table the file's path, relative to the project folder or absolute.",
        ),
        (
            ("--table", "data/shop.csv", "--target", "price_in_euros"),
            "The table has no column 'price_in_euros' to use as the target; its columns are "
            "['colour', 'price', 'sold']. Name one of them with --target.",
        ),
        (
            ("--table", "data/broken.parquet", "--target", "sold"),
            "The table 'data/broken.parquet' could not be read as pandas.ParquetDataset (",
        ),
        (
            ("--table", "data/shop.tsv", "--target", "sold"),
            "The table 'data/shop.tsv' is not a file of a known kind (.csv, .parquet, .pq, "
            ".json, .feather, .xlsx); name its kedro-datasets type with --dataset-type, e.g. "
            "pandas.SQLTableDataset.",
        ),
        (
            ("--table", "data/shop.csv", "--target", "sold", "--dataset-type", "pandas.Nope"),
            "--dataset-type 'pandas.Nope' is not a dataset type this installation has (",
        ),
        (
            ("--table", "data/shop.csv", "--target", "sold", "--load-args", "[1, 2]"),
            "--load-args '[1, 2]' is not a mapping; write it as '{key: value, ...}'.",
        ),
        (
            ("--table", "data/shop.csv", "--target", "sold", "--image-root", "data/none"),
            "--image-root 'data/none' is not a folder (looked for {project}/data/none); give "
            "the folder the table's image paths are relative to.",
        ),
    ],
)
def test_each_mistake_stops_with_one_sentence_and_writes_nothing(project, arguments, sentence):
    shop_table().to_csv(project / "data" / "shop.csv", index=False)
    shop_table().to_csv(project / "data" / "shop.tsv", sep="\t", index=False)
    (project / "data" / "broken.parquet").write_bytes(b"PAR1 this is not parquet")

    said = stopped_with(*init_env("shop", *arguments))

    assert said.startswith(sentence.replace("{project}", str(project.resolve())))
    assert said.endswith(".")
    assert not (project / "conf" / "shop").exists()


def test_drafting_settings_come_from_conf_local_too_and_are_checked(project):
    shop_table().to_csv(project / "data" / "shop.csv", index=False)
    local = project / "conf" / "local" / "parameters_drafting.yml"
    arguments = ("shop", "--table", "data/shop.csv", "--target", "sold")

    local.write_text("drafting: {missing_markers: []}\n")
    code, output = init_env(*arguments)
    unmarked = load(project, "shop", "parameters.yml")
    local.write_text("drafting: {few_numbers: 0}\n")
    said = stopped_with(*init_env(*arguments, "--force"))

    assert code == 0, output
    assert "missing_values" not in unmarked["table"]
    assert said.startswith("The parameters have a problem: `drafting.few_numbers` is 0, but it")


@pytest.mark.parametrize("name", ["base", "../elsewhere", ".hidden"])
def test_a_name_that_is_not_a_new_environment_folder_is_refused(project, name):
    shop_table().to_csv(project / "data" / "shop.csv", index=False)

    said = stopped_with(*init_env(name, "--table", "data/shop.csv", "--target", "sold"))

    assert said.startswith(f"{name!r} cannot name an environment")


def test_the_traceback_variable_shows_the_error_s_traceback(project):
    code, output = init_env(
        "shop", "--table", "data/nope.csv", "--target", "sold",
        env={"MULTIMODAL_KERAS_TRACEBACK": "1"},
    )  # fmt: skip

    assert code == 1
    assert "MultimodalKerasError" in output


@pytest.mark.integration
def test_kedro_lists_init_env_among_the_project_s_commands(project):
    shop_table().to_csv(project / "data" / "shop.csv", index=False)
    done = subprocess.run(
        [sys.executable, "-m", "kedro", "init-env", "shop", "--table", "data/nope.csv",
         "--target", "sold"],
        cwd=project, env=subprocess_environment(), capture_output=True, text=True, check=False,
    )  # fmt: skip

    assert done.returncode == 1, done.stdout + done.stderr
    assert f"{STOPPED}There is no table at 'data/nope.csv'" in done.stderr
    assert "Traceback" not in done.stdout + done.stderr
