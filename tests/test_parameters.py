"""Every parameter is checked against its schema before a run: one sentence per problem."""

from __future__ import annotations

import copy

import pytest

from multimodal_keras import parameters
from multimodal_keras.errors import MultimodalKerasError
from multimodal_keras.modalities import MODALITIES
from tests.configuration import PROJECT_CONF, load_conf

ENVIRONMENTS = sorted(
    path.name for path in PROJECT_CONF.iterdir() if path.is_dir() and path.name != "local"
)


@pytest.fixture(scope="module")
def base() -> dict:
    return load_conf("parameters")


def changed(base: dict, dotted: str, value) -> dict:
    params = copy.deepcopy(base)
    *path, last = dotted.split(".")
    node = params
    for part in path:
        node = node.setdefault(part, {})
    node[last] = value
    return params


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_the_shipped_configuration_is_valid(environment):
    assert parameters.problems(load_conf("parameters", environment=environment)) == []


def test_every_registered_modality_owns_the_schema_of_its_block_and_tower():
    for name, module in MODALITIES.items():
        assert parameters.schema().model_fields[name].annotation is module.Options
        towers = parameters.schema().model_fields["model"].annotation.model_fields["towers"]
        assert towers.annotation.model_fields[name].annotation is module.TowerOptions


# Each bad value's sentence, through `kedro run`: tests/bad_inputs/test_configuration.py.


def test_every_problem_is_reported_at_once_and_the_run_stops(base):
    params = changed(changed(base, "trainig.epochs", 1), "training.epochs", 0)
    params = changed(params, "numerical.scaling", "zscore")
    with pytest.raises(MultimodalKerasError) as stopped:
        parameters.check(params)
    message = str(stopped.value)
    assert message.startswith("The parameters have 3 problems: ")
    assert message.endswith("Fix them in conf/<env>/parameters*.yml or in --params.")
    for key in ("`training.epochs`", "`numerical.scaling`", "`trainig`"):
        assert key in message


def test_a_missing_key_is_named(base):
    params = copy.deepcopy(base)
    del params["training"]["epochs"]
    assert parameters.problems(params) == [
        "`training.epochs` is missing (conf/base sets it; was its block replaced?)"
    ]


def test_the_parameter_reference_in_docs_matches_the_schema_and_conf_base(base):
    written = (PROJECT_CONF.parent / "docs" / "parameters.md").read_text()
    assert written == parameters.reference(base), (
        "docs/parameters.md is stale: run python scripts/write_parameter_reference.py"
    )
