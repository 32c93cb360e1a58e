"""The search of settings, in this process: test rows, seed, resumption, a narrowed space.

Every search here runs the tuning pipeline's node on a 120-row table with the categorical
and numerical towers only and one epoch per trial, so that a trial takes a few seconds.
"""

from __future__ import annotations

import copy
import itertools
import shutil
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml

from multimodal_keras.errors import MultimodalKerasError
from multimodal_keras.modalities import MODALITIES
from multimodal_keras.model import tuning
from multimodal_keras.pipelines.data_processing.nodes import encode_target, fit_target, split_rows
from multimodal_keras.pipelines.features.nodes import transform_for
from multimodal_keras.pipelines.tuning.nodes import search_settings
from multimodal_keras.search_space import SearchEntry
from multimodal_keras.splitting import TEST, split_positions
from multimodal_keras.validation import with_row_ids
from tests.configuration import PROJECT_CONF, load_conf
from tests.fitting import fit_preprocessors

SPACE = {
    "training.learning_rate": {"kind": "log_float", "min": 0.001, "max": 0.03},
    "model.fusion.units": {"kind": "choice", "values": [[4], [8, 4]]},
    "model.towers.numerical.encoding": {
        "kind": "choice",
        "values": ["auto", "periodic", "piecewise_linear"],
    },
}
TRIALS = 3
# What differs between two runs of the same trials: the time they took.
TIMED = ["seconds"]


@pytest.fixture(scope="module")
def artifacts(make_tiny_table, shared_small_parameters) -> dict[str, Any]:
    """What the default run saves for the search to read, on 120 rows."""
    params = copy.deepcopy(shared_small_parameters)
    params["training"]["epochs"] = 1
    table = with_row_ids(make_tiny_table(rows=120, seed=4), None)
    assignments = split_rows(table, params["table"], params["split"], seed=0)
    target_encoder = fit_target(table, assignments, params["table"])
    # Tabular towers only: a trial then takes a few seconds.
    options = {name: params[name] for name in MODALITIES} | {
        name: {**params[name], "columns": []} for name in ("text", "image")
    }
    preprocessors = fit_preprocessors(table, assignments, params | options, target_encoder)
    return {
        "params": params,
        "target_encoder": target_encoder,
        "encoded_target": encode_target(target_encoder, table),
        "split_assignments": assignments,
        "preprocessors": preprocessors,
        "features": {
            name: np.asarray(transform_for(name)(p, table, params["processing"]))
            for name, p in preprocessors.items()
        },
    }


def search(
    artifacts: dict[str, Any],
    directory: Path,
    features: dict[str, Any] | None = None,
    training: dict[str, Any] | None = None,
    **settings: Any,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The tuning pipeline's node on the artifacts, its state in ``directory``."""
    params = artifacts["params"]
    tuning_settings = copy.deepcopy(params["tuning"]) | {
        "space": SPACE,
        "max_trials": TRIALS,
        "budget_minutes": None,
        "directory": str(directory),
    }
    tuning_settings.update(settings)
    return search_settings(
        artifacts["target_encoder"],
        artifacts["encoded_target"],
        artifacts["split_assignments"],
        params["model"],
        training or params["training"],
        tuning_settings,
        params["seed"],
        **{f"{name}_preprocessor": p for name, p in artifacts["preprocessors"].items()},
        **{f"{name}_features": f for name, f in (features or artifacts["features"]).items()},
    )


def without_time(trials: pd.DataFrame) -> pd.DataFrame:
    return trials.drop(columns=TIMED)


@pytest.fixture(scope="module")
def first_search(artifacts, tmp_path_factory) -> tuple[pd.DataFrame, dict[str, Any], Path]:
    """One uninterrupted search of three trials; the others are compared with it."""
    directory = tmp_path_factory.mktemp("first_search")
    trials, tuned = search(artifacts, directory)
    return trials, tuned, directory


@pytest.mark.integration
def test_a_search_runs_its_trials_and_keeps_the_best_settings(artifacts, first_search):
    trials, tuned, _ = first_search
    params = artifacts["params"]

    assert trials["trial"].tolist() == [1, 2, 3]
    assert set(trials["status"]) == {"completed"}
    assert set(trials.columns) >= set(SPACE) | {"score", "epochs", "seconds", "metric"}
    assert set(trials["metric"]) == {"val_auc"}
    # The space holds the configured settings, so the first trial trains them.
    first = trials.iloc[0]
    assert first["training.learning_rate"] == params["training"]["learning_rate"]
    assert first["model.fusion.units"] == str(params["model"]["fusion"]["units"])
    assert first["model.towers.numerical.encoding"] == "auto"
    assert trials["training.learning_rate"].nunique() == TRIALS
    best = trials.loc[trials["score"].idxmax()]
    assert tuned["training"]["learning_rate"] == pytest.approx(best["training.learning_rate"])
    assert (
        tuned["model"]["towers"]["numerical"]["encoding"]
        == (best["model.towers.numerical.encoding"])
    )
    assert str(tuned["model"]["fusion"]["units"]).replace(" ", "") == (
        best["model.fusion.units"].replace(" ", "")
    )


@pytest.mark.integration
def test_the_search_never_reads_the_test_rows(artifacts, first_search, tmp_path):
    trials, tuned, directory = first_search
    test_rows = split_positions(artifacts["split_assignments"], TEST)
    poisoned = dict(artifacts["features"])
    for name in ("categorical", "numerical"):
        values = np.array(poisoned[name], dtype=np.float32)
        values[test_rows] = np.nan
        poisoned[name] = values

    again, tuned_again = search(artifacts, tmp_path, features=poisoned)

    # The same seed, and test rows the search must not read: the same trials and settings.
    pd.testing.assert_frame_equal(without_time(again), without_time(trials))
    assert tuned_again == tuned
    # The search's identity (its folder) hashes the rows it reads: not the test rows.
    assert [path.name for path in tmp_path.iterdir()] == [path.name for path in directory.iterdir()]


# A third search of three trials (about 10 s): with the slow tests. In the default suite,
# test_the_search_never_reads_the_test_rows searches again with the same seed and asserts
# the same trials and tuned settings; the interrupted search, resumed, ends with them too.
@pytest.mark.slow
@pytest.mark.integration
def test_the_same_seed_gives_the_same_trials(artifacts, first_search, tmp_path):
    trials, tuned, _ = first_search

    again, tuned_again = search(artifacts, tmp_path)

    pd.testing.assert_frame_equal(without_time(again), without_time(trials))
    assert tuned_again == tuned


@pytest.mark.integration
def test_an_interrupted_search_resumes_and_ends_as_an_uninterrupted_one(
    artifacts, first_search, tmp_path, monkeypatch
):
    trials, tuned, _ = first_search
    started = []

    def interrupted_during_the_second_trial(*args: Any, **kwargs: Any) -> Any:
        started.append(1)
        if len(started) == 2:
            raise KeyboardInterrupt
        return original(*args, **kwargs)

    original = tuning.fit_model
    monkeypatch.setattr(tuning, "fit_model", interrupted_during_the_second_trial)
    with pytest.raises(KeyboardInterrupt):
        search(artifacts, tmp_path)
    monkeypatch.setattr(tuning, "fit_model", original)

    resumed, tuned_resumed = search(artifacts, tmp_path)

    assert len(started) == 2  # the first trial ran before the interruption, and not again
    assert len(resumed) == len(trials) == TRIALS
    pd.testing.assert_frame_equal(without_time(resumed), without_time(trials))
    assert tuned_resumed == tuned


@pytest.mark.integration
def test_no_trial_starts_once_the_budget_is_spent_and_a_running_one_stops_after_its_epoch(
    artifacts, tmp_path, monkeypatch
):
    # The search's clock reads a minute later at each look: the budget of 1.5 minutes is
    # spent during the first trial's first epoch.
    clock = itertools.count(start=0.0, step=60.0)
    looks = SimpleNamespace(monotonic=lambda: next(clock), perf_counter=time.perf_counter)
    monkeypatch.setattr(tuning, "time", looks)
    training = copy.deepcopy(artifacts["params"]["training"])
    training["epochs"] = 3

    trials, tuned = search(artifacts, tmp_path, training=training, budget_minutes=1.5)

    assert trials["status"].tolist() == ["stopped_by_budget"]
    assert trials["epochs"].tolist() == [1]
    assert set(tuned) == {"model", "training"}


@pytest.mark.integration
def test_a_space_narrowed_in_an_environment_is_searched_and_nothing_else(artifacts, tmp_path):
    conf = tmp_path / "conf"
    shutil.copytree(PROJECT_CONF / "base", conf / "base")
    base_space = load_conf("parameters")["tuning"]["space"]
    narrowed = {path: None for path in base_space} | {
        "training.learning_rate": {"kind": "choice", "values": [0.003, 0.03]},
        "model.towers.numerical.encoding": {"kind": "choice", "values": ["piecewise_linear"]},
    }
    (conf / "narrow").mkdir()
    (conf / "narrow" / "parameters.yml").write_text(yaml.safe_dump({"tuning": {"space": narrowed}}))
    space = load_conf("parameters", conf, "narrow")["tuning"]["space"]

    trials, tuned = search(artifacts, tmp_path / "tuner", space=space, max_trials=4)

    searched = ["training.learning_rate", "model.towers.numerical.encoding"]
    assert [column for column in trials.columns if "." in column] == searched
    # Two combinations in all: the search ends when it has tried both, before max_trials.
    assert sorted(trials["training.learning_rate"]) == [0.003, 0.03]
    assert set(trials["model.towers.numerical.encoding"]) == {"piecewise_linear"}
    assert set(tuned) == {"training", "model"}
    assert tuned["training"]["learning_rate"] in (0.003, 0.03)


@pytest.mark.integration
def test_the_trials_train_under_the_mirrored_strategy(artifacts, tmp_path, monkeypatch):
    strategies = []
    original = tuning.fit_model

    def recording(*args: Any, **kwargs: Any) -> Any:
        strategies.append(type(kwargs["strategy"]).__name__)
        return original(*args, **kwargs)

    monkeypatch.setattr(tuning, "fit_model", recording)
    training = copy.deepcopy(artifacts["params"]["training"])
    training["distribution"] = {"strategy": "mirrored", "logical_cpus": None}

    trials, _ = search(artifacts, tmp_path, training=training, max_trials=1)

    # One device here: logical CPUs need a fresh process (tests/integration).
    assert strategies == ["MirroredStrategy"]
    assert trials["status"].tolist() == ["completed"]


def test_trials_failing_in_a_row_stop_the_search_in_one_sentence(artifacts, tmp_path, monkeypatch):
    def failing(*args: Any, **kwargs: Any) -> Any:
        raise ValueError("out of memory for this batch size")

    monkeypatch.setattr(tuning, "fit_model", failing)
    with pytest.raises(MultimodalKerasError) as stopped:
        search(artifacts, tmp_path, max_consecutive_failed_trials=2)
    assert str(stopped.value).startswith(
        "2 trials in a row failed, the last with ValueError: out of memory for this batch size;"
    )


def test_a_multi_worker_search_is_refused_in_one_sentence(artifacts, tmp_path):
    training = copy.deepcopy(artifacts["params"]["training"])
    training["distribution"] = {"strategy": "multi_worker", "logical_cpus": None}
    with pytest.raises(ValueError, match=r"^The search runs on one machine, .*default\.$"):
        search(artifacts, tmp_path, training=training)


@pytest.mark.parametrize(
    ("entry", "drawn", "setting"),
    [
        ({"kind": "float", "min": 0.0, "max": 0.4, "step": 0.1}, 0.30000000000000004, 0.3),
        ({"kind": "float", "min": 0.05, "max": 0.45, "step": 0.1}, 0.15000000000000002, 0.15),
        ({"kind": "choice", "values": [[64], [128, 64]]}, "[128, 64]", [128, 64]),
        ({"kind": "choice", "values": ["auto", 64]}, "64", 64),
        ({"kind": "int", "min": 2, "max": 8}, 5, 5),
    ],
)
def test_what_keras_tuner_draws_is_the_settings_own_value(entry, drawn, setting):
    dimension = tuning.Dimension("some.setting", SearchEntry.model_validate(entry))
    assert dimension.value(drawn) == setting
    assert type(dimension.value(drawn)) is type(setting)
    held, again = dimension.drawn_for(setting)  # a configured value, offered to KerasTuner
    assert held and dimension.value(again) == setting
