"""ParameterRecordHooks' records: what each artifact was made with, and the warning a run
that reuses an artifact made with other values gives."""

from __future__ import annotations

import logging

from kedro.io import DataCatalog, MemoryDataset
from kedro.pipeline import Pipeline, node

from multimodal_keras.hooks.parameter_records import (
    add_artifact,
    artifact_parameters,
    empty_records,
    first_readers,
    latest_reads,
    warn_on_reuse,
)
from multimodal_keras.parameters import differences

T1, T2, T3 = "2026-01-01T00:00:00+00:00", "2026-01-02T00:00:00+00:00", "2026-01-03T00:00:00+00:00"


def identity(*values):
    return values[0]


# split reads params:seed; fit reads the split and params:text; train reads the features.
FULL = Pipeline(
    [
        node(identity, ["table", "params:seed"], "split", name="split_rows"),
        node(identity, ["split", "params:text"], "features", name="fit_text"),
        node(identity, ["features", "params:text"], "summary", name="describe_text"),
        node(identity, ["features", "params:training"], "model", name="train"),
    ]
)


def catalog(**parameters) -> DataCatalog:
    datasets = {name: MemoryDataset(1) for name in ("table", "split", "features")}
    datasets |= {f"params:{name}": MemoryDataset(value) for name, value in parameters.items()}
    return DataCatalog(datasets)


def test_each_version_keeps_its_own_parameters_and_each_value_is_stored_once():
    records = empty_records()
    add_artifact(records, "features", "v1", {"params:text": ({"max_tokens": 10}, T1),
                                             "params:seed": (1, T1)})  # fmt: skip
    add_artifact(records, "features", "v2", {"params:text": ({"max_tokens": 20}, T2),
                                             "params:seed": (1, T1)})  # fmt: skip
    add_artifact(records, "split", None, {"params:seed": (1, T1)})

    assert artifact_parameters(records, "features", "v1") == {
        "params:seed": 1,
        "params:text": {"max_tokens": 10},
    }
    assert artifact_parameters(records, "features", "v2")["params:text"] == {"max_tokens": 20}
    assert artifact_parameters(records, "split", None) == {"params:seed": 1}
    assert artifact_parameters(records, "features", "v3") is None
    assert len(records["values"]) == 3  # seed 1 once, the two text sections


def test_an_artifact_made_from_others_of_two_runs_records_the_value_read_last():
    # The split of a first run (text read at T1) and the features of a namespace rerun
    # with other text settings (read at T2): the model made from both records T2's.
    split = {"params:text": ({"max_tokens": 10}, T1), "params:seed": (1, T1)}
    features = {"params:text": ({"max_tokens": 20}, T2)}
    own = {"params:training": ({"epochs": 3}, T3)}
    for inputs in ((split, features), (features, split)):
        assert latest_reads(*inputs, own) == {
            "params:text": ({"max_tokens": 20}, T2),
            "params:seed": (1, T1),
            "params:training": ({"epochs": 3}, T3),
        }


def test_differences_name_every_changed_added_and_removed_key():
    made_with = {"max_tokens": 10, "ngrams": 2, "tower": {"units": [32]}, "old": 1}
    current = {"max_tokens": 10, "ngrams": 1, "tower": {"units": [64]}, "new": True}
    assert differences(made_with, current, "text") == [
        ("text.ngrams", 2, 1),
        ("text.tower.units", [32], [64]),
        ("text.old", 1, None),
        ("text.new", None, True),
    ]
    assert differences(made_with, dict(made_with), "text") == []


def test_the_rerun_named_starts_from_the_first_nodes_that_read_the_parameter():
    assert first_readers(FULL, "params:text") == ["fit_text"]  # describe_text runs after it
    assert first_readers(FULL, "params:seed") == ["split_rows"]


def test_reusing_features_made_with_other_text_settings_warns_once_with_the_rerun(caplog):
    records = empty_records()
    made = {"params:seed": (1, T1), "params:text": ({"max_tokens": 10, "ngrams": 2}, T1)}
    add_artifact(records, "features", None, made)
    add_artifact(records, "split", None, {"params:seed": (1, T1)})
    current = catalog(seed=1, text={"max_tokens": 20, "ngrams": 2}, training={"epochs": 3})

    with caplog.at_level(logging.WARNING, logger="multimodal_keras.hooks"):
        warn_on_reuse(records, FULL.from_nodes("train"), FULL, current)

    assert len(caplog.records) == 1
    message = caplog.records[0].getMessage()
    assert "reuses features, made with text.max_tokens 10" in message
    assert "its own parameters say text.max_tokens 20" in message
    assert "`kedro run --from-nodes fit_text`" in message
    assert "ngrams" not in message and "seed" not in message


def test_reusing_artifacts_made_with_the_run_s_values_or_unrecorded_says_nothing(caplog):
    records = empty_records()
    add_artifact(records, "features", None, {"params:text": ({"max_tokens": 10}, T1)})
    same = catalog(seed=1, text={"max_tokens": 10}, training={"epochs": 3})

    with caplog.at_level(logging.WARNING, logger="multimodal_keras.hooks"):
        warn_on_reuse(records, FULL.from_nodes("train"), FULL, same)
        warn_on_reuse(empty_records(), FULL.from_nodes("train"), FULL, same)

    assert caplog.records == []
