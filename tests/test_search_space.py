"""The search space of `kedro run --pipelines tuning`: what may be searched, in one sentence."""

from __future__ import annotations

import pytest

from multimodal_keras import parameters
from multimodal_keras.errors import MultimodalKerasError
from multimodal_keras.search_space import check_space, flattened, nested, with_settings

FIX = "change or remove it in conf/<env>/parameters_tuning.yml."

REFUSED = [
    ({"training.learnig_rate": {"kind": "log_float", "min": 0.001, "max": 0.01}},
     "`training.learnig_rate` is not a parameter this project reads (did you mean "
     "`training.learning_rate`?)"),
    ({"model.fusion.dropout": {"kind": "float", "min": 0.0, "max": 1.2}},
     "`model.fusion.dropout` (max 1.2) is not a value the parameter may take: "
     "`model.fusion.dropout` is 1.2, but it must be less than 1"),
    ({"model.towers.text.encoder": {"kind": "choice", "values": ["average", "lstm"]}},
     "`model.towers.text.encoder` is 'lstm', but it must be 'average', 'conv' or 'none'"),
    ({"model.fusion.units": {"kind": "choice", "values": [[64], [0]]}},
     "`model.fusion.units.0` is 0, but it must be greater than 0"),
    ({"model.towers.categorical.embedding_dim": {"kind": "float", "min": 2, "max": 16}},
     "`model.towers.categorical.embedding_dim` takes whole numbers or named values: declare "
     "it as kind int or choice"),
    ({"text.max_tokens": {"kind": "choice", "values": [5000, 20000]}},
     "`text.max_tokens` is fitted into the text preprocessor"),
    ({"categorical.encoding": {"kind": "choice", "values": ["one_hot", "embedding"]}},
     "`categorical.encoding` is fitted into the categorical preprocessor"),
    ({"split.test_fraction": {"kind": "float", "min": 0.1, "max": 0.3}},
     "`split.test_fraction` is not a model or training setting"),
    ({"training.monitor": {"kind": "choice", "values": ["val_loss", "val_auc"]}},
     "`training.monitor` cannot be searched: it is the validation metric every trial is "
     "scored on"),
    ({"training.distribution.strategy": {"kind": "choice", "values": ["default", "mirrored"]}},
     "`training.distribution.strategy` cannot be searched"),
    ({"training.learning_rate": {"kind": "log_float", "min": 0.0, "max": 0.01}},
     "`training.learning_rate` is not a search entry: kind log_float needs min above 0"),
    ({"training.learning_rate": {"kind": "float", "min": 0.01}},
     "`training.learning_rate` is not a search entry: kind float needs min and max"),
    ({"training.learning_rate": {"kind": "choice", "values": []}},
     "is not a search entry: a choice needs a non-empty list of values"),
]  # fmt: skip


@pytest.mark.parametrize(("space", "expected"), REFUSED, ids=[next(iter(s)) for s, _ in REFUSED])
def test_an_entry_that_cannot_be_searched_stops_with_one_sentence(
    shared_project_parameters, space, expected
):
    params = shared_project_parameters
    with pytest.raises(MultimodalKerasError) as stopped:
        check_space(space, params["model"], params["training"])
    message = str(stopped.value)
    assert message.startswith(f"`tuning.space` entry `{next(iter(space))}` ")
    assert expected in message
    assert message.endswith(FIX)
    assert message.count(". ") == 0  # one sentence


def test_the_shipped_space_is_valid_and_a_null_entry_is_left_out(shared_project_parameters):
    params = shared_project_parameters
    space = dict(params["tuning"]["space"])

    entries = check_space(space, params["model"], params["training"])
    assert list(entries) == list(space)
    without = check_space(
        space | {"training.learning_rate": None}, params["model"], params["training"]
    )
    assert "training.learning_rate" not in without


def test_a_space_with_nothing_to_search_stops(shared_project_parameters):
    params = shared_project_parameters
    with pytest.raises(MultimodalKerasError, match="has no entry to search"):
        check_space({"training.learning_rate": None}, params["model"], params["training"])


def test_the_tuning_block_is_part_of_the_parameter_check(shared_project_parameters):
    params = {**shared_project_parameters, "tuning": dict(shared_project_parameters["tuning"])}
    params["tuning"]["max_trials"] = None
    params["tuning"]["budget_minutes"] = None
    assert parameters.problems(params) == [
        "in `tuning`, max_trials, budget_minutes or both must be set, so that it ends"
    ]


def test_settings_nest_as_in_conf_and_apply_over_the_parameters(shared_project_parameters):
    settings = {"training.learning_rate": 0.002, "model.fusion.units": [32, 16]}
    tree = nested(settings)
    assert tree == {"model": {"fusion": {"units": [32, 16]}}, "training": {"learning_rate": 0.002}}
    assert flattened(tree) == settings
    merged = with_settings(shared_project_parameters, settings)
    assert merged["training"]["learning_rate"] == 0.002
    assert merged["model"]["fusion"]["units"] == [32, 16]
    assert (
        merged["model"]["fusion"]["dropout"]
        == shared_project_parameters["model"]["fusion"]["dropout"]
    )
    assert shared_project_parameters["training"]["learning_rate"] != 0.002  # not changed
