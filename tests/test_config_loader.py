"""Each environment's artifacts live in a folder of their own; local and base share data/."""

from __future__ import annotations

import warnings

import pytest

from multimodal_keras.config_loader import data_folder_for
from multimodal_keras.settings import CONFIG_LOADER_ARGS, CONFIG_LOADER_CLASS
from tests.configuration import PROJECT_CONF


def catalog_of(env: str | None) -> dict:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        loader = CONFIG_LOADER_CLASS(str(PROJECT_CONF), env=env, **CONFIG_LOADER_ARGS)
        return loader["catalog"]


@pytest.mark.parametrize(
    ("env", "folder"),
    [(None, "data"), ("local", "data"), ("base", "data"), ("penguins", "data/penguins")],
)
def test_the_data_folder_of_each_environment(env, folder):
    assert data_folder_for(env) == folder


def test_every_artifact_but_the_raw_tables_lives_under_the_environments_folder():
    default, penguins = catalog_of(None), catalog_of("penguins")
    for name, entry in default.items():
        if name.startswith("_") or "filepath" not in entry:
            continue
        path = entry["filepath"]
        if name in {"raw_table", "inference_table"}:
            continue
        assert path.startswith("data/0"), (name, path)
        assert penguins[name]["filepath"] == path.replace("data/", "data/penguins/", 1)
    assert penguins["raw_table"]["filepath"] == "data/01_raw/penguins.csv"


def test_two_loaders_in_one_process_each_resolve_their_own_environment():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        first = CONFIG_LOADER_CLASS(str(PROJECT_CONF), env="penguins", **CONFIG_LOADER_ARGS)
        second = CONFIG_LOADER_CLASS(str(PROJECT_CONF), env="tweets", **CONFIG_LOADER_ARGS)
        assert first["catalog"]["primary_table"]["filepath"].startswith("data/penguins/")
        assert second["catalog"]["primary_table"]["filepath"].startswith("data/tweets/")
