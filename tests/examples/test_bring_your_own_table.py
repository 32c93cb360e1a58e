"""The guide to bringing your own table works as written: its two files, and nothing else,
make a new environment that trains on a table with columns the project has never seen.

``kedro run --env houses`` runs in this process (Click's runner on the project's ``run``
command, as tests/bad_inputs runs it), which saves a TensorFlow start-up.
"""

from __future__ import annotations

import json
import re

import pytest
import yaml

from multimodal_keras.config_loader import data_folder_for
from multimodal_keras.modalities import MODALITIES
from multimodal_keras.modalities.base import configured_columns
from multimodal_keras.synthetic import make_table
from tests.artifacts import latest
from tests.bad_inputs.conftest import kedro_run
from tests.configuration import small_changes
from tests.scratch_project import PROJECT_ROOT

pytestmark = [
    pytest.mark.integration,
    # Kedro's config loader registers its resolvers anew in a session run in this process.
    pytest.mark.filterwarnings("ignore:register_new_resolver:UserWarning"),
]

GUIDE = PROJECT_ROOT / "docs" / "bring_your_own_table.md"
ENVIRONMENT = "houses"
ROWS = 160
# Only for the test's speed: a few epochs and tiny towers, in a third file of the folder.
QUICK = {key: small_changes()[key] for key in ("model", "training")}


def guide_file(name: str) -> str:
    """The YAML block under the guide's heading that names ``conf/houses/<name>``."""
    text = GUIDE.read_text()
    section = text.split(f"`conf/{ENVIRONMENT}/{name}`", 1)[1]
    return re.search(r"```yaml\n(.*?)```", section, re.DOTALL).group(1)


def test_guide_environment_trains_on_a_new_table(project_copy, base_parameters):
    project = project_copy()
    catalog, parameters = guide_file("catalog.yml"), guide_file("parameters.yml")
    params = yaml.safe_load(parameters)
    # A modality the guide leaves out keeps conf/base's columns (the neighbours: auto, which
    # lists none by name).
    columns = {
        modality: configured_columns(params.get(modality, base_parameters[modality]))
        for modality in MODALITIES
    }
    known = {base_parameters["table"]["target"]}.union(
        *(configured_columns(base_parameters[modality]) for modality in MODALITIES)
    )
    assert not known & {params["table"]["target"]}.union(*columns.values())
    spec = base_parameters["demo"] | {"image": base_parameters["demo"]["image"] | {"size": 8}}
    table = make_table(columns, params["table"]["target"], ROWS, spec, seed=11)
    table.to_parquet(project / yaml.safe_load(catalog)["raw_table"]["filepath"])
    folder = project / "conf" / ENVIRONMENT
    folder.mkdir()
    (folder / "catalog.yml").write_text(catalog)
    (folder / "parameters.yml").write_text(parameters)
    (folder / "parameters_quick.yml").write_text(yaml.safe_dump(QUICK))

    completed = kedro_run(project, "--env", ENVIRONMENT)

    assert completed.exit_code == 0, completed.output[-3000:]
    metrics = json.loads(
        latest(project / data_folder_for(ENVIRONMENT) / "08_reporting/metrics.json").read_text()
    )
    assert metrics["task"] == params["table"]["task"]
    assert metrics["model"].keys() == metrics["baseline"].keys()
    assert latest(
        project / data_folder_for(ENVIRONMENT) / "06_models/trained_model.keras"
    ).is_file()
