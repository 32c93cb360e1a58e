"""Each example environment overrides only what differs, and its data are committed or built
by a committed script."""

from __future__ import annotations

import os
import re
import runpy
import sys
from pathlib import Path

os.environ.setdefault("KEDRO_DISABLE_TELEMETRY", "1")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
import yaml  # noqa: E402
from environments import ENVIRONMENTS  # noqa: E402
from kedro.io import AbstractDataset  # noqa: E402

from multimodal_keras.modalities import MODALITIES, image  # noqa: E402
from multimodal_keras.pipelines.data_processing.nodes import validate_table  # noqa: E402
from multimodal_keras.tables import TableChunks  # noqa: E402
from tests.configuration import load_conf  # noqa: E402
from tests.scratch_project import PROJECT_ROOT  # noqa: E402

CONF = PROJECT_ROOT / "conf"


def load_raw_table(project: Path, environment: str) -> TableChunks:
    """The environment's raw_table, as its catalog entry loads it from ``project``."""
    config = dict(load_conf("catalog", project / "conf", environment)["raw_table"])
    config["filepath"] = str(project / config["filepath"])
    return AbstractDataset.from_config("raw_table", config).load()


def validated(project: Path, environment: str) -> pd.DataFrame:
    params = load_conf("parameters", project / "conf", environment)
    raw = load_raw_table(project, environment)
    modalities = {name: params[name] for name in MODALITIES}
    # Image paths resolve under a root relative to the project, as in `kedro run`.
    if modalities["image"].get("root"):
        modalities["image"] = modalities["image"] | {
            "root": str(project / modalities["image"]["root"])
        }
    primary, _ = validate_table(raw, params["table"], params["split"], **modalities)
    return primary.to_pandas()


@pytest.mark.parametrize("name", sorted(ENVIRONMENTS))
def test_environment_holds_only_a_raw_table_entry_and_parameters(name):
    folder = CONF / name
    files = sorted(path.name for path in folder.iterdir())
    assert "catalog.yml" in files
    assert all(f == "catalog.yml" or re.fullmatch(r"parameters.*\.yml", f) for f in files)
    assert list(yaml.safe_load((folder / "catalog.yml").read_text())) == ["raw_table"]


@pytest.mark.parametrize("name", sorted(ENVIRONMENTS))
def test_environment_names_a_column_for_every_modality(name):
    environment_params = {}
    for path in (CONF / name).glob("parameters*.yml"):
        environment_params |= yaml.safe_load(path.read_text())
    assert set(MODALITIES) <= set(environment_params)
    assert all("columns" in environment_params[modality] for modality in MODALITIES)


@pytest.mark.parametrize("name", sorted(ENVIRONMENTS))
def test_a_committed_script_builds_the_environment_data(name):
    script = PROJECT_ROOT / ENVIRONMENTS[name].script
    assert script.is_file()
    assert f'ENVIRONMENT = "{name}"' in script.read_text()


@pytest.mark.parametrize(
    "name", sorted(name for name, env in ENVIRONMENTS.items() if env.committed)
)
def test_committed_table_is_present_with_its_licence_and_validates(name):
    for file in ENVIRONMENTS[name].committed:
        assert (PROJECT_ROOT / "data" / "01_raw" / file).is_file(), file
    primary = validated(PROJECT_ROOT, name)
    params = load_conf("parameters", CONF, name)
    assert primary[params["table"]["target"]].nunique() >= 2
    assert len(primary) > 300


@pytest.mark.integration  # runs a committed script end to end, in this process
def test_digits_script_writes_png_files_and_an_index_the_pipeline_reads(project_copy, monkeypatch):
    project = project_copy()
    script = project / ENVIRONMENTS["digits"].script
    # In this process, to spare the start of another: the copy's script and its helper.
    monkeypatch.syspath_prepend(str(script.parent))
    sys.modules.pop("_project", None)
    try:
        runpy.run_path(str(script), run_name="__main__")
    finally:
        sys.modules.pop("_project", None)

    primary = validated(project, "digits")
    params = load_conf("parameters", project / "conf", "digits")
    assert len(primary) == 1797
    assert primary[params["table"]["target"]].nunique() == 10
    options = params["image"] | {"root": str(project / params["image"]["root"])}
    preprocessor = image.fit(primary, options)
    pixels = np.asarray(image.transform(preprocessor, primary.head(20)))
    assert pixels.shape == (20, 1, options["height"], options["width"], options["channels"])
    assert pixels.max() > 0
