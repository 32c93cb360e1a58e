"""Model assembly: one named input per active modality, fused, then the task's head."""

from __future__ import annotations

import copy
import itertools
from typing import Any

import keras
import numpy as np
import pandas as pd
import pytest

from multimodal_keras.modalities import MODALITIES, active, text
from multimodal_keras.model.build import assemble_model
from multimodal_keras.targets import BINARY, MULTICLASS, REGRESSION, fit_target_encoder
from multimodal_keras.validation import with_row_ids
from tests.configuration import with_neighbours
from tests.fitting import fit_all

SUBSETS = [
    subset
    for size in range(1, len(MODALITIES) + 1)
    for subset in itertools.combinations(MODALITIES, size)
]
TARGETS = {
    BINARY: pd.Series([0, 1, 1, 0], name="sold"),
    MULTICLASS: pd.Series(["low", "mid", "high", "mid"], name="sold"),
    REGRESSION: pd.Series([1.0, 2.5, 4.0, 0.5], name="sold"),
}
HEADS = {BINARY: (1, "sigmoid"), MULTICLASS: (3, "softmax"), REGRESSION: (1, "linear")}
ROWS = 10


def model_arrays(preprocessors: dict[str, Any], table: pd.DataFrame) -> dict[str, np.ndarray]:
    """The model inputs of the modalities in use."""
    return {
        name: MODALITIES[name].model_input(MODALITIES[name].transform(preprocessor, table))
        for name, preprocessor in active(preprocessors).items()
    }


@pytest.fixture(scope="module")
def fitted(shared_small_parameters, make_tiny_table):
    """Preprocessors fitted on a tiny table, the arrays they give, and their switched-off twins."""
    table = with_row_ids(make_tiny_table(rows=ROWS, seed=4), None)
    parameters = with_neighbours(shared_small_parameters)
    fitted_on = fit_all(parameters, table)
    switched_off = copy.deepcopy(parameters)
    for name in MODALITIES:
        switched_off[name]["columns"] = []
    return {
        "active": fitted_on,
        "inactive": fit_all(switched_off, table),
        "arrays": model_arrays(fitted_on, table),
        "model": parameters["model"],
    }


@pytest.mark.parametrize("task", list(TARGETS))
@pytest.mark.parametrize("subset", SUBSETS, ids=["+".join(subset) for subset in SUBSETS])
def test_model_has_one_input_per_active_modality_and_the_tasks_head(fitted, subset, task):
    preprocessors = {
        name: fitted["active" if name in subset else "inactive"][name] for name in MODALITIES
    }
    target = fit_target_encoder(TARGETS[task], task)

    model = assemble_model(preprocessors, target, fitted["model"])

    assert sorted(tensor.name for tensor in model.inputs) == sorted(subset)
    units, activation = HEADS[task]
    assert model.get_layer("prediction").activation.__name__ == activation
    assert model.get_layer("members").output.shape[1:] == (
        fitted["model"]["ensemble"]["members"],
        units,
    )
    outputs = model.predict({name: fitted["arrays"][name] for name in subset}, verbose=0)
    assert outputs.shape == (ROWS, units)
    assert np.isfinite(outputs).all()
    if task == MULTICLASS:
        np.testing.assert_allclose(outputs.sum(axis=1), 1.0, rtol=1e-5)
    if task == BINARY:
        assert ((outputs >= 0) & (outputs <= 1)).all()


def test_input_shapes_and_dtypes_follow_the_transformed_arrays(fitted):
    target = fit_target_encoder(TARGETS[BINARY], BINARY)

    model = assemble_model(fitted["active"], target, fitted["model"])

    for tensor in model.inputs:
        array = fitted["arrays"][tensor.name]
        assert tuple(tensor.shape[1:]) == array.shape[1:], tensor.name
        assert tensor.dtype == array.dtype.name, tensor.name


def test_modality_without_columns_adds_no_input_nor_layers(fitted):
    preprocessors = dict(fitted["active"], text=fitted["inactive"]["text"])
    target = fit_target_encoder(TARGETS[BINARY], BINARY)

    model = assemble_model(preprocessors, target, fitted["model"])

    assert "text" not in [tensor.name for tensor in model.inputs]
    assert not [layer.name for layer in model.layers if layer.name.startswith("text")]


def test_no_modality_with_columns_is_refused(fitted):
    target = fit_target_encoder(TARGETS[BINARY], BINARY)

    with pytest.raises(ValueError, match="no modality has configured columns"):
        assemble_model(fitted["inactive"], target, fitted["model"])


def test_embedding_categorical_and_convolutional_text_towers_predict(
    small_parameters, make_tiny_table
):
    small_parameters["categorical"]["encoding"] = "embedding"
    small_parameters["model"]["towers"]["text"]["encoder"] = "conv"
    table = with_row_ids(make_tiny_table(rows=ROWS, seed=5), None)
    preprocessors = fit_all(small_parameters, table)
    target = fit_target_encoder(TARGETS[MULTICLASS], MULTICLASS)

    model = assemble_model(preprocessors, target, small_parameters["model"])

    # Each member owns a copy of the categorical tower.
    embedding = model.get_layer("member_0_categorical").get_layer("categorical_embedding")
    assert embedding.input_dim == (preprocessors["categorical"].table_size)
    assert model.get_layer("text_conv_per_column") is not None
    outputs = model.predict(model_arrays(preprocessors, table), verbose=0)
    assert outputs.shape == (ROWS, 3)


def test_text_table_learning_rate_factor_reaches_every_ngram_table_and_is_saved(
    small_parameters, make_tiny_table, tmp_path
):
    small_parameters["model"]["towers"]["text"]["table_learning_rate_factor"] = 0.1
    table = with_row_ids(make_tiny_table(rows=ROWS, seed=5), None)
    preprocessors = fit_all(small_parameters, table)
    target = fit_target_encoder(TARGETS[BINARY], BINARY)
    model = assemble_model(preprocessors, target, small_parameters["model"])

    bags = [layer for layer in model._flatten_layers() if isinstance(layer, text.WeightedBag)]
    assert {layer.name for layer in bags} == {"text_tfidf_bag", "text_embedding", "text_wide_bag"}
    assert all(layer.step_scale == 0.1 for layer in bags)
    path = tmp_path / "model.keras"
    model.save(path)
    arrays = model_arrays(preprocessors, table)
    np.testing.assert_allclose(
        keras.saving.load_model(path).predict(arrays, verbose=0),
        model.predict(arrays, verbose=0),
        atol=1e-6,
    )


def _all_layers(layer: keras.layers.Layer) -> list[keras.layers.Layer]:
    inner = [child for child in getattr(layer, "layers", []) or []]
    inner += [layer.layer] if isinstance(layer, keras.layers.TimeDistributed) else []
    return [layer, *(found for child in inner for found in _all_layers(child))]


def test_model_has_no_lambda_layer_and_reloads_with_safe_mode_on(fitted, tmp_path):
    target = fit_target_encoder(TARGETS[MULTICLASS], MULTICLASS)
    model = assemble_model(fitted["active"], target, fitted["model"])

    assert not [layer for layer in _all_layers(model) if isinstance(layer, keras.layers.Lambda)]
    model.save(tmp_path / "model.keras")
    reloaded = keras.models.load_model(tmp_path / "model.keras", safe_mode=True)
    np.testing.assert_allclose(
        reloaded.predict(fitted["arrays"], verbose=0),
        model.predict(fitted["arrays"], verbose=0),
        atol=1e-6,
    )


def _sources(layer: keras.layers.Layer) -> set[str]:
    return {tensor._keras_history.operation.name for tensor in layer.input}


@pytest.mark.parametrize("members", [1, 3])
def test_wide_path_feeds_the_encoded_features_to_the_head_beside_the_deep_part(fitted, members):
    target = fit_target_encoder(TARGETS[BINARY], BINARY)
    ensemble = {"members": members}
    wide_on = dict(fitted["model"], wide={"enabled": True}, ensemble=ensemble)
    wide_off = dict(fitted["model"], wide={"enabled": False}, ensemble=ensemble)

    with_wide = assemble_model(fitted["active"], target, wide_on)
    without = assemble_model(fitted["active"], target, wide_off)

    # One head reads the wide features beside the deep part; members share one linear part.
    wide = with_wide.get_layer("wide_and_deep" if members == 1 else "wide")
    sources = _sources(wide)
    # Categorical, numerical and text give linear features; images only a deep tower.
    assert {"categorical_wide_weights", "numerical", "text_wide_bag"} & sources
    assert not any(name.startswith("image") for name in sources)
    assert "wide_and_deep" not in [layer.name for layer in without.layers]
    if members == 1:
        head_inputs = with_wide.get_layer("prediction").input.shape[-1]
        assert head_inputs > without.get_layer("prediction").input.shape[-1]
    else:
        assert _sources(with_wide.get_layer("wide_and_deep")) == {"members", "wide_per_member"}
