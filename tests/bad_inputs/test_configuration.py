# ruff: noqa: E501  (case tables: one case per line reads best)
"""Misconfigured parameters: the run stops before any node with one sentence naming the key.

Each case is what a user would type: ``kedro run --params KEY=VALUE``, or a block in an
environment's parameters file where ``--params`` cannot say it (lists, nulls, whole blocks).
"""

from __future__ import annotations

import pytest
import yaml

from tests.bad_inputs.conftest import assert_stops, kedro_run

pytestmark = pytest.mark.integration

FIX = "Fix them in conf/<env>/parameters*.yml or in --params."

TYPED = [
    ("trainig.epochs=1", "`trainig` is not a parameter this project reads (did you mean `training`?)"),
    ("training.epocs=1", "did you mean `training.epochs`?"),
    ("model.towers.text.encodr=none", "did you mean `model.towers.text.encoder`?"),
    ("audio.columns=clip", "`audio` is not a parameter this project reads"),
    ("training.epochs=0", "`training.epochs` is 0, but it must be greater than 0"),
    ("training.epochs=many", "`training.epochs` is 'many', but it must be a valid integer"),
    ("training.batch_size=-64", "`training.batch_size` is -64, but it must be 'auto' or greater than 0"),
    ("training.learning_rate=-1", "`training.learning_rate` is -1, but it must be greater than 0"),
    ("training.weight_decay=-0.1", "`training.weight_decay` is -0.1, but it must be 'auto' or greater than or equal to 0"),
    ("training.auto_weight_decay.with_batch_norm=-1", "`training.auto_weight_decay.with_batch_norm` is -1, but it must be greater than or equal to 0"),
    ("training.optimizer=sgd", "`training.optimizer` is 'sgd', but it must be 'adamw' or 'adam'"),
    ("training.monitor=val_f1", "`training.monitor` is 'val_f1', but it must be 'auto', 'val_loss'"),
    ("training.early_stopping_patience=-1", "`training.early_stopping_patience` is -1"),
    ("training.learning_rate_schedule.kind=cosine", "must be 'plateau' or 'constant'"),
    ("training.learning_rate_schedule.factor=2.0", "`training.learning_rate_schedule.factor` is 2.0, but it must be less than 1"),
    ("training.distribution.strategy=gpu", "must be 'default', 'mirrored' or 'multi_worker'"),
    ("training.class_weight=heavy", "`training.class_weight` is 'heavy', but it must be 'balanced' or a valid dictionary"),
    ("training.auto_batch.min=0", "`training.auto_batch.min` is 0, but it must be greater than 0"),
    ("seed=abc", "`seed` is 'abc', but it must be a valid integer"),
    ("numerical.scaling=zscore", "`numerical.scaling` is 'zscore', but it must be 'standard', 'minmax', 'robust' or 'none'"),
    ("numerical.imputation=zero", "must be 'mean', 'median' or 'most_frequent'"),
    ("numerical.bins=1", "`numerical.bins` is 1, but it must be greater than or equal to 2"),
    ("numerical.invalid_rows=skip", "`numerical.invalid_rows` is 'skip', but it must be 'error' or 'drop'"),
    ("categorical.encoding=hash", "must be 'auto', 'one_hot' or 'embedding'"),
    ("categorical.min_frequency=-3", "`categorical.min_frequency` is -3"),
    ("categorical.columns=category", "`categorical.columns` is 'category', but it must be a valid list"),
    ("text.sequence_length=0", "`text.sequence_length` is 0"),
    ("text.max_tokens=2", "`text.max_tokens` is 2, but it must be greater than or equal to 3"),
    ("text.ngrams=0", "`text.ngrams` is 0, but it must be greater than 0"),
    ("text.length_percentile=150", "`text.length_percentile` is 150, but it must be less than or equal to 100"),
    ("text.standardize=upper", "`text.standardize` is 'upper', but it must be 'lower_and_split_punctuation'"),
    ("text.split=comma", "`text.split` is 'comma', but it must be 'whitespace' or 'character'"),
    ("text.characters_per_id=0", "`text.characters_per_id` is 0, but it must be greater than 0"),
    ("image.source=url", "`image.source` is 'url', but it must be 'bytes' or 'path'"),
    ("image.height=0", "`image.height` is 0"),
    ("image.width=-5", "`image.width` is -5, but it must be 'auto' or greater than 0"),
    ("image.channels=2", "`image.channels` is 2"),
    ("image.channels=rgb", "`image.channels` is 'rgb', but it must be 'auto' or 1 or 3"),
    ("image.interpolation=cubicish", "`image.interpolation` is 'cubicish', but it must be 'bilinear'"),
    ("image.max_pixels=0", "`image.max_pixels` is 0, but it must be greater than 0"),
    ("image.auto_sample=0", "`image.auto_sample` is 0, but it must be greater than 0"),
    ("model.towers.image.dropout=1.5", "`model.towers.image.dropout` is 1.5"),
    ("model.fusion.dropout=-0.2", "`model.fusion.dropout` is -0.2, but it must be greater than or equal to 0"),
    ("model.towers.text.encoder=lstm", "`model.towers.text.encoder` is 'lstm', but it must be 'average', 'conv' or 'none'"),
    ("model.towers.categorical.embedding_dim=0", "`model.towers.categorical.embedding_dim` is 0"),
    ("model.towers.numerical.frequencies=0", "`model.towers.numerical.frequencies` is 0"),
    ("model.wide.enabled=sometimes", "`model.wide.enabled` is 'sometimes', but it must be a valid boolean"),
    ("table.task=ranking", "`table.task` is 'ranking'"),
    ("table.missing_target=keep", "`table.missing_target` is 'keep', but it must be 'drop' or 'error'"),
    ("table.missing_values=NA", "`table.missing_values` is 'NA', but it must be a valid list"),
    ("table.missing_values_per_column=price", "`table.missing_values_per_column` is 'price', but it must be a valid dictionary"),
    ("split.test_fraction=0.9", "test_fraction + validation_fraction must stay below 1"),
    ("split.validation_fraction=0", "`split.validation_fraction` is 0, but it must be greater than 0"),
    ("split.stratify=maybe", "`split.stratify` is 'maybe', but it must be a valid boolean"),
    ("evaluation.batch_size=0", "`evaluation.batch_size` is 0, but it must be greater than 0"),
    ("modality_importance.repeats=0", "`modality_importance.repeats` is 0, but it must be greater than 0"),
    ("run_lock.wait_seconds=-1", "`run_lock.wait_seconds` is -1, but it must be greater than or equal to 0"),
    ("reporting=none", "`reporting` is 'none', but it must be a valid dictionary"),
]  # fmt: skip

IN_A_FILE = [
    ({"model": {"towers": {"numerical": {"units": [64, 0]}}}}, "`model.towers.numerical.units.1` is 0"),
    ({"model": {"towers": {"numerical": {"frequency_scales": [3.0]}}}}, "`model.towers.numerical.frequency_scales` is [3.0], but it must have 2 items"),
    ({"audio": {"columns": ["clip"]}}, "`audio` is not a parameter this project reads"),
    ({"table": {"target": None}}, "`table.target` is None, but it must be a valid string"),
    ({"training": {"epochs": None}}, "`training.epochs` is None"),
    ({"training": {"verbose": 3}}, "`training.verbose` is 3"),
    ({"image": {"formats": "PNG"}}, "`image.formats` is 'PNG', but it must be a valid list"),
    ({"table": {"missing_values": ["?", None]}}, "`table.missing_values.1` is None, but it must be a valid string or a valid integer or a valid number"),
    ({"table": {"missing_values": [False]}}, "`table.missing_values.0` is False"),
    ({"table": {"missing_values_per_column": {"price": "-1"}}}, "`table.missing_values_per_column.price` is '-1', but it must be a valid list"),
]  # fmt: skip

# Parameters of the right type that name what the table lacks: the run stops in validation,
# the first node that reads the table.
AGAINST_THE_TABLE = [
    ("table.missing_values_per_column={pricee: [-1]}", "table.missing_values_per_column names the column(s) ['pricee'], which the raw table does not have"),
]  # fmt: skip


@pytest.mark.parametrize(("assignment", "expected"), TYPED, ids=[case[0] for case in TYPED])
def test_a_bad_parameter_on_the_command_line_stops_the_run_naming_it(
    scratch_project, assignment, expected
):
    project, _ = scratch_project
    outcome = kedro_run(project, "--params", assignment)
    assert_stops(outcome, expected, FIX)
    assert "Running node" not in outcome.output  # stopped before any node ran


@pytest.mark.parametrize(
    ("block", "expected"), IN_A_FILE, ids=[case[1].split("`")[1] for case in IN_A_FILE]
)
def test_a_bad_parameter_in_an_environment_stops_the_run_naming_it(
    scratch_project, block, expected
):
    project, _ = scratch_project
    environment = project / "conf" / "bad_parameters"
    environment.mkdir(exist_ok=True)
    (environment / "parameters.yml").write_text(yaml.safe_dump(block))
    outcome = kedro_run(project, "--env", "bad_parameters")
    assert_stops(outcome, expected, FIX)


@pytest.mark.parametrize(
    ("assignment", "expected"), AGAINST_THE_TABLE, ids=[case[0] for case in AGAINST_THE_TABLE]
)
def test_a_parameter_naming_what_the_table_lacks_stops_the_run_naming_it(
    scratch_project, assignment, expected
):
    project, _ = scratch_project
    outcome = kedro_run(project, "--params", assignment)
    assert_stops(outcome, expected, "fix the name(s) or remove the entries in conf/<env>/")
    assert "No nodes ran" in outcome.output  # refused by validation, before any write


def test_every_problem_is_named_in_one_message(scratch_project):
    project, _ = scratch_project
    outcome = kedro_run(
        project, "--params", "trainig.epochs=1,training.epochs=0,numerical.scaling=zscore"
    )
    assert_stops(outcome, "The parameters have 3 problems: ", "`training.epochs`", "`trainig`")


def test_a_search_space_entry_outside_its_parameter_stops_the_search_before_any_node(
    scratch_project,
):
    project, _ = scratch_project
    environment = project / "conf" / "bad_search_space"
    environment.mkdir(exist_ok=True)
    space = {"model.fusion.dropout": {"kind": "float", "min": 0.0, "max": 1.5}}
    (environment / "parameters.yml").write_text(yaml.safe_dump({"tuning": {"space": space}}))
    outcome = kedro_run(project, "--pipelines", "tuning", "--env", "bad_search_space")
    assert_stops(
        outcome,
        "`tuning.space` entry `model.fusion.dropout` (max 1.5) is not a value the parameter may "
        "take: `model.fusion.dropout` is 1.5, but it must be less than 1",
        "conf/<env>/parameters_tuning.yml",
    )
    assert "Running node" not in outcome.output


def test_training_with_tuned_settings_before_any_search_stops_naming_the_command(
    scratch_project,
):
    project, _ = scratch_project
    outcome = kedro_run(project, "--params", "training.use_tuned=true")
    assert_stops(
        outcome,
        "training.use_tuned is true, but `tuned_parameters` has not been written yet",
        "search first with `kedro run --pipelines tuning`",
    )
