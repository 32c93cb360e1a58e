"""The classical baseline: which estimator, fitted on training rows only, scored like the model."""

from __future__ import annotations

import copy
import os
from typing import Any

os.environ.setdefault("KEDRO_DISABLE_TELEMETRY", "1")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from multimodal_keras.datasets import NumpyDataset  # noqa: E402
from multimodal_keras.errors import MultimodalKerasError  # noqa: E402
from multimodal_keras.modalities import MODALITIES  # noqa: E402
from multimodal_keras.modalities.base import configured_columns  # noqa: E402
from multimodal_keras.model import baseline as classical  # noqa: E402
from multimodal_keras.model.evaluate import classification_metrics  # noqa: E402
from multimodal_keras.pipelines.baseline.nodes import evaluate_baseline, fit_baseline  # noqa: E402
from multimodal_keras.pipelines.data_processing.nodes import (  # noqa: E402
    encode_target,
    fit_target,
    split_rows,
    validate_table,
)
from multimodal_keras.pipelines.evaluation.nodes import collect_metrics  # noqa: E402
from multimodal_keras.pipelines.features.nodes import (  # noqa: E402
    transform_for,
)
from multimodal_keras.splitting import TRAIN, split_positions  # noqa: E402
from multimodal_keras.synthetic import make_table  # noqa: E402
from multimodal_keras.tables import as_chunks, seeded_sample  # noqa: E402
from tests.configuration import load_conf  # noqa: E402
from tests.fitting import fit_preprocessors

# Nearly every test fits a baseline (scikit-learn) model.
pytestmark = pytest.mark.integration

SIZE = 8
POISON = "zzpoison"


@pytest.fixture(scope="module")
def base_params() -> dict[str, Any]:
    params = load_conf("parameters")
    params["image"].update(height=SIZE, width=SIZE)
    params["demo"]["image"]["size"] = SIZE
    params["baseline"]["linear"]["image_size"] = [4, 4]
    params["baseline"]["gradient_boosting"]["max_iter"] = 10  # a few trees keep tests fast
    return params


def _params(base: dict[str, Any], **columns: list[str]) -> dict[str, Any]:
    params = copy.deepcopy(base)
    for name, names in columns.items():
        params[name]["columns"] = names
    return params


def _table(params: dict[str, Any], rows: int = 120, seed: int = 3, **demo: Any) -> pd.DataFrame:
    columns = {name: configured_columns(params[name]) for name in MODALITIES}
    spec = copy.deepcopy(params["demo"]) | demo
    return make_table(columns, params["table"]["target"], rows, spec, seed)


def _prepare(raw: pd.DataFrame, params: dict[str, Any]) -> dict[str, Any]:
    """Run the data-processing and feature nodes in memory, as the pipeline does."""
    modality_params = {name: params[name] for name in MODALITIES}
    primary, _ = validate_table(raw, params["table"], params["split"], **modality_params)
    primary = primary.to_pandas()
    assignments = split_rows(primary, params["table"], params["split"], params["seed"])
    target_encoder = fit_target(primary, assignments, params["table"])
    preprocessors = fit_preprocessors(primary, assignments, params, target_encoder)
    features = {
        name: np.asarray(transform_for(name)(preprocessors[name], primary, params["processing"]))
        for name in MODALITIES
    }
    return {
        "primary_table": primary,
        "split_assignments": assignments,
        "target_encoder": target_encoder,
        "encoded_target": encode_target(target_encoder, primary),
        "preprocessors": preprocessors,
        "features": features,
    }


def _fit(prepared: dict[str, Any], params: dict[str, Any]) -> classical.Baseline:
    return fit_baseline(
        prepared["primary_table"],
        prepared["split_assignments"],
        prepared["encoded_target"],
        prepared["target_encoder"],
        params["baseline"],
        params["processing"],
        params["seed"],
        **{f"{name}_preprocessor": value for name, value in prepared["preprocessors"].items()},
        **{f"{name}_features": value for name, value in prepared["features"].items()},
    )


def _encoders(model: classical.Baseline, modality: str) -> list[Any]:
    """The fitted last step (the encoder) of each of a modality's transformer blocks."""
    return [block[-1] for block in model.fitted_blocks(modality)]


def _evaluate(
    model: classical.Baseline, prepared: dict[str, Any], params: dict[str, Any]
) -> dict[str, Any]:
    return evaluate_baseline(
        model,
        prepared["target_encoder"],
        prepared["encoded_target"],
        prepared["split_assignments"],
        prepared["primary_table"],
        params["processing"],
        **prepared["features"],
    )


def test_only_categorical_and_numerical_columns_get_gradient_boosting():
    assert classical.choose_kind({"categorical": ["a"], "numerical": ["b"]}) == "gradient_boosting"
    assert classical.choose_kind({"numerical": ["b"]}) == "gradient_boosting"
    assert classical.choose_kind({"numerical": ["b"], "text": ["c"]}) == "linear"
    assert classical.choose_kind({"image": ["d"]}) == "linear"


def test_gradient_boosting_uses_native_categories_on_the_raw_columns(base_params):
    params = _params(base_params, text=[], image=[])
    prepared = _prepare(_table(params), params)
    model = _fit(prepared, params)
    assert model.kind == "gradient_boosting"
    mask = model.estimator.is_categorical_
    assert mask.tolist() == [True] * 2 + [False] * 2


def test_linear_baseline_stacks_every_modality(base_params):
    prepared = _prepare(_table(base_params), base_params)
    model = _fit(prepared, base_params)
    assert model.kind == "linear"
    widths = model.describe()["features"]
    # The neighbours read the categories again; the baseline reads them once, as categories.
    assert set(widths) == set(MODALITIES) - {"neighbours"}
    assert widths["image"] == 4 * 4 * 3 * len(base_params["image"]["columns"])
    (encoder,) = _encoders(model, "categorical")
    assert widths["categorical"] == len(encoder.get_feature_names_out())


@pytest.mark.parametrize("encoding", ["one_hot", "embedding", "auto"])
def test_the_linear_baseline_one_hot_encodes_the_raw_categories_whatever_the_models_encoding(
    base_params, encoding
):
    params = _params(base_params)
    params["categorical"]["encoding"] = encoding
    prepared = _prepare(_table(params), params)
    model = _fit(prepared, params)
    (encoder,) = _encoders(model, "categorical")
    names = list(encoder.get_feature_names_out())
    assert model.describe()["features"]["categorical"] == len(names)
    # One raw column in per configured column, whatever the model's encoded block holds.
    assert encoder.n_features_in_ == len(params["categorical"]["columns"])


@pytest.mark.parametrize("modalities", ["tabular", "all"])
def test_non_training_rows_never_reach_the_fit(base_params, modalities):
    off = {"text": [], "image": []} if modalities == "tabular" else {}
    params = _params(base_params, **off)
    raw = _table(params)
    clean = _prepare(raw, params)
    held_out = np.setdiff1d(np.arange(len(raw)), split_positions(clean["split_assignments"], TRAIN))
    poisoned_raw = raw.copy()
    for column in params["categorical"]["columns"] + params["text"]["columns"]:
        poisoned_raw.loc[held_out, column] = POISON
    for column in params["numerical"]["columns"]:
        poisoned_raw.loc[held_out, column] = 1e9
    poisoned = _prepare(poisoned_raw, params)
    clean_model, poisoned_model = _fit(clean, params), _fit(poisoned, params)

    train = split_positions(clean["split_assignments"], TRAIN)
    rows = clean["primary_table"].iloc[train]
    np.testing.assert_allclose(
        classical.predict(clean_model, rows, clean["features"], train),
        classical.predict(poisoned_model, rows, clean["features"], train),
    )
    for vectorizer in _encoders(poisoned_model, "text"):
        assert POISON not in vectorizer.vocabulary_
    if poisoned_model.kind == "gradient_boosting":
        (encoder,) = _encoders(poisoned_model, "categorical")
        categories = np.concatenate(encoder.categories_)
        assert POISON not in categories.tolist()


@pytest.mark.parametrize(
    ("task", "classes"), [("binary", None), ("multiclass", 3), ("regression", None)]
)
@pytest.mark.parametrize("modalities", ["tabular", "all"])
def test_outputs_are_shaped_like_the_keras_model_outputs(base_params, task, classes, modalities):
    off = {"text": [], "image": []} if modalities == "tabular" else {}
    params = _params(base_params, **off)
    params["table"]["task"] = task
    demo = {"task": task} | ({"classes": classes} if classes else {})
    prepared = _prepare(_table(params, **demo), params)
    model = _fit(prepared, params)
    rows = split_positions(prepared["split_assignments"], "test")
    outputs = classical.predict(
        model, prepared["primary_table"].iloc[rows], prepared["features"], rows
    )
    width = classes if task == "multiclass" else 1
    assert outputs.shape == (len(rows), width)
    if task != "regression":
        assert np.all((outputs >= 0) & (outputs <= 1))


def test_baseline_metrics_have_the_model_metric_names(base_params):
    prepared = _prepare(_table(base_params), base_params)
    metrics = _evaluate(_fit(prepared, base_params), prepared, base_params)
    model_names = classification_metrics(np.array([0, 1]), np.eye(2), 2).keys()
    assert metrics["baseline"].keys() == model_names
    assert metrics["test_rows"] == len(split_positions(prepared["split_assignments"], "test"))
    assert metrics["estimator"]["estimator"] == "LogisticRegression"


def test_collect_metrics_puts_the_baseline_beside_the_model():
    model = {"task": "binary", "test_rows": 10, "model": {"accuracy": 0.9}}
    baseline = {
        "task": "binary",
        "test_rows": 10,
        "estimator": {"kind": "linear", "estimator": "LogisticRegression", "features": {}},
        "baseline": {"accuracy": 0.8},
    }
    metrics = collect_metrics(model, baseline)
    assert metrics["model"] == {"accuracy": 0.9} and metrics["baseline"] == {"accuracy": 0.8}
    assert metrics["task"] == "binary" and metrics["test_rows"] == 10
    with pytest.raises(MultimodalKerasError, match="out of date"):
        collect_metrics(model, baseline | {"test_rows": 11})


def test_the_fitted_transformers_know_only_the_training_rows(base_params):
    params = _params(base_params)
    raw = _table(params)
    train = split_positions(_prepare(raw, params)["split_assignments"], TRAIN)
    held_out = np.setdiff1d(np.arange(len(raw)), train)
    raw.loc[held_out, params["categorical"]["columns"]] = POISON
    for column in params["text"]["columns"]:
        raw.loc[held_out, column] = raw.loc[held_out, column] + f" {POISON}"
    raw.loc[held_out, params["numerical"]["columns"]] = 1e6
    prepared = _prepare(raw, params)
    np.testing.assert_array_equal(split_positions(prepared["split_assignments"], TRAIN), train)
    model = _fit(prepared, params)
    assert model.kind == "linear"

    (one_hot,) = _encoders(model, "categorical")
    assert all(POISON not in categories.tolist() for categories in one_hot.categories_)
    for vectorizer in _encoders(model, "text"):
        assert not [term for term in vectorizer.vocabulary_ if POISON in term]
    (numbers,) = model.fitted_blocks("numerical")
    values = prepared["primary_table"].iloc[train][params["numerical"]["columns"]]
    np.testing.assert_allclose(numbers["impute"].statistics_, values.median())
    np.testing.assert_allclose(numbers["scale"].mean_, values.fillna(values.median()).mean())
    assert np.all(numbers["scale"].mean_ < 1e5)


def test_the_baseline_does_not_move_with_the_models_encodings(base_params):
    raw = _table(base_params)
    scores = []
    for categorical, numerical in [
        ({"encoding": "one_hot"}, {"scaling": "standard", "add_missing_indicator": True}),
        ({"encoding": "embedding"}, {"scaling": "minmax", "add_missing_indicator": False}),
    ]:
        params = _params(base_params)
        params["categorical"].update(categorical)
        params["numerical"].update(numerical)
        prepared = _prepare(raw, params)
        model = _fit(prepared, params)
        rows = split_positions(prepared["split_assignments"], "test")
        test_rows = prepared["primary_table"].iloc[rows]
        scores.append(classical.predict(model, test_rows, prepared["features"], rows))
    np.testing.assert_allclose(scores[0], scores[1])


def _with(params: dict[str, Any], fit_rows: int | None = None, chunk_rows: int | None = None):
    changed = copy.deepcopy(params)
    if fit_rows is not None:
        changed["baseline"]["fit_rows"] = fit_rows
    if chunk_rows is not None:
        changed["processing"]["chunk_rows"] = chunk_rows
    return changed


@pytest.mark.parametrize("modalities", ["tabular", "all"])
def test_up_to_fit_rows_training_rows_the_baseline_is_the_one_fitted_on_all_of_them(
    base_params, modalities
):
    params = _params(base_params, **({"text": [], "image": []} if modalities == "tabular" else {}))
    prepared = _prepare(_table(params), params)
    train = split_positions(prepared["split_assignments"], TRAIN)
    test = split_positions(prepared["split_assignments"], "test")
    everything = classical.fit(
        prepared["primary_table"].iloc[train],
        prepared["features"],
        train,
        prepared["encoded_target"]["target"].to_numpy()[train],
        prepared["preprocessors"],
        prepared["target_encoder"],
        params["baseline"],
        params["seed"],
    )
    want = classical.predict(
        everything, prepared["primary_table"].iloc[test], prepared["features"], test
    )

    test_rows = prepared["primary_table"].iloc[test]
    for changed in (_with(params, fit_rows=len(train)), _with(params, chunk_rows=7)):
        got = _fit(prepared, changed)
        np.testing.assert_array_equal(
            classical.predict(got, test_rows, prepared["features"], test), want
        )


def test_beyond_fit_rows_a_seeded_sample_of_training_rows_only_is_fitted_however_chunked(
    base_params,
):
    params = _params(base_params, text=[], image=[])
    prepared = _prepare(_table(params, rows=300), params)
    train = split_positions(prepared["split_assignments"], TRAIN)
    fit_rows = len(train) // 3
    sample = classical.training_sample(
        as_chunks(prepared["primary_table"], 1000),
        classical.raw_columns(prepared["preprocessors"]),
        train,
        fit_rows,
        params["seed"],
    )
    assert len(sample) == fit_rows
    assert set(sample.index) <= set(train.tolist())
    assert sample.index.is_monotonic_increasing
    drawn = seeded_sample(
        [prepared["primary_table"].iloc[train]], "row_id", fit_rows, params["seed"]
    )
    np.testing.assert_array_equal(sample.index, drawn.index)
    for chunk_rows in (11, 64):
        again = classical.training_sample(
            as_chunks(prepared["primary_table"], chunk_rows),
            classical.raw_columns(prepared["preprocessors"]),
            train,
            fit_rows,
            params["seed"],
        )
        pd.testing.assert_frame_equal(again, sample)

    models = [
        _fit(prepared, _with(params, fit_rows=fit_rows, chunk_rows=chunk_rows))
        for chunk_rows in (11, 64)
    ]
    test = split_positions(prepared["split_assignments"], "test")
    rows = prepared["primary_table"].iloc[test]
    outputs = [classical.predict(model, rows, prepared["features"], test) for model in models]
    np.testing.assert_array_equal(outputs[0], outputs[1])
    full = classical.predict(_fit(prepared, params), rows, prepared["features"], test)
    assert not np.array_equal(outputs[0], full)


def test_test_rows_are_scored_chunk_by_chunk_as_all_at_once_from_a_frame_or_chunks(base_params):
    prepared = _prepare(_table(base_params), base_params)
    model = _fit(prepared, base_params)
    whole = _evaluate(model, prepared, base_params)

    small_chunks = _with(base_params, chunk_rows=9)
    chunked = _evaluate(model, prepared, small_chunks)
    streamed = _evaluate(
        model,
        prepared | {"primary_table": as_chunks(prepared["primary_table"], 13)},
        small_chunks,
    )

    assert chunked == whole and streamed == whole
    rows = split_positions(prepared["split_assignments"], "test")
    np.testing.assert_allclose(
        classical.predict_rows(
            model, as_chunks(prepared["primary_table"], 9), prepared["features"], rows
        ),
        classical.predict(model, prepared["primary_table"].iloc[rows], prepared["features"], rows),
    )


def test_the_image_baseline_reads_memory_mapped_pixels_as_pixels_in_memory(base_params, tmp_path):
    prepared = _prepare(_table(base_params), base_params)
    pixels = NumpyDataset(filepath=str(tmp_path / "pixels.npy"))
    pixels.save(prepared["features"]["image"])
    mapped = prepared | {"features": prepared["features"] | {"image": pixels.load()}}
    assert isinstance(mapped["features"]["image"], np.memmap)

    in_memory, from_maps = _fit(prepared, base_params), _fit(mapped, base_params)

    assert from_maps.kind == "linear" and from_maps.feature_widths["image"] > 0
    assert _evaluate(from_maps, mapped, base_params) == _evaluate(in_memory, prepared, base_params)
