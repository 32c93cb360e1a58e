"""`training.use_tuned`: the tuned settings replace the configured ones before any node runs."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from kedro.io import DataCatalog
from kedro.io.core import Version

from multimodal_keras.datasets import YAMLDataset
from multimodal_keras.errors import MultimodalKerasError
from multimodal_keras.hooks import TunedParameterHooks
from multimodal_keras.pipelines.training import create_pipeline
from multimodal_keras.search_space import TUNED_RECORD

TUNED = {
    "model": {"fusion": {"units": [32, 16], "dropout": 0.3}},
    "training": {"learning_rate": 0.002, "batch_size": 64},
}
VERSION = "2026-11-29T10.00.00.000Z"


def catalog_of(parameters: dict[str, Any], tuned_file: Path, saved: bool = True) -> DataCatalog:
    """A catalog as Kedro makes it: ``parameters``, ``params:`` entries, ``tuned_parameters``."""
    catalog = DataCatalog()
    catalog["parameters"] = parameters

    def add(name: str, value: Any) -> None:
        catalog[f"params:{name}"] = value
        if isinstance(value, dict):
            for key, inner in value.items():
                add(f"{name}.{key}", inner)

    for name, value in parameters.items():
        add(name, value)
    dataset = YAMLDataset(filepath=str(tuned_file), version=Version(None, VERSION))
    if saved:
        dataset.save(TUNED)
    catalog["tuned_parameters"] = YAMLDataset(filepath=str(tuned_file), version=Version(None, None))
    return catalog


def run_hook(catalog: DataCatalog, runtime_params: dict[str, Any] | None = None) -> None:
    TunedParameterHooks().before_pipeline_run(
        run_params={"runtime_params": runtime_params or {}, "env": None},
        pipeline=create_pipeline(),
        catalog=catalog,
    )


@pytest.fixture
def parameters(shared_project_parameters) -> dict[str, Any]:
    return copy.deepcopy(shared_project_parameters)


def test_without_use_tuned_the_parameters_stay_as_configured(parameters, tmp_path):
    catalog = catalog_of(parameters, tmp_path / "tuned.yml")

    run_hook(catalog)

    assert catalog.load("parameters") == parameters
    assert catalog.load("params:training") == parameters["training"]


def test_use_tuned_merges_the_latest_tuned_settings_and_records_them(parameters, tmp_path):
    parameters["training"]["use_tuned"] = True
    parameters["training"]["learning_rate"] = 0.01  # Kedro merges --params into the parameters
    catalog = catalog_of(parameters, tmp_path / "tuned.yml")

    run_hook(catalog, runtime_params={"training": {"use_tuned": True, "learning_rate": 0.01}})

    training, model = catalog.load("params:training"), catalog.load("params:model")
    assert training["batch_size"] == 64
    assert training["learning_rate"] == 0.01  # given with --params: it wins
    assert training["epochs"] == parameters["training"]["epochs"]  # not searched: as it was
    assert model["fusion"] == {"units": [32, 16], "dropout": 0.3}
    assert catalog.load("params:model.fusion.units") == [32, 16]
    assert model["towers"] == parameters["model"]["towers"]
    record = catalog.load("parameters")[TUNED_RECORD]
    assert record == {
        "version": VERSION,
        "settings": {
            "model.fusion.dropout": 0.3,
            "model.fusion.units": [32, 16],
            "training.batch_size": 64,
        },
    }


def test_use_tuned_before_any_search_stops_naming_the_command(parameters, tmp_path):
    parameters["training"]["use_tuned"] = True
    catalog = catalog_of(parameters, tmp_path / "tuned.yml", saved=False)

    with pytest.raises(MultimodalKerasError) as stopped:
        run_hook(catalog)
    assert "`tuned_parameters` has not been written yet" in str(stopped.value)
    assert "`kedro run --pipelines tuning`" in str(stopped.value)


def test_tuned_settings_that_no_longer_fit_the_parameters_stop_the_run(parameters, tmp_path):
    parameters["training"]["use_tuned"] = True
    catalog = catalog_of(parameters, tmp_path / "tuned.yml", saved=False)
    YAMLDataset(filepath=str(tmp_path / "tuned.yml"), version=Version(None, VERSION)).save(
        {"training": {"learning_rate": -1.0}}
    )

    with pytest.raises(MultimodalKerasError, match="`training.learning_rate` is -1.0"):
        run_hook(catalog)
