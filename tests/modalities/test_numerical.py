"""Numerical columns: imputation and scaling with statistics of the fitted rows."""

from __future__ import annotations

import keras
import numpy as np
import pandas as pd
import pytest

from multimodal_keras.errors import MultimodalKerasError
from multimodal_keras.modalities import numerical


def options(**overrides):
    return {
        "columns": ["price"],
        "imputation": "median",
        "add_missing_indicator": True,
        "scaling": "standard",
    } | overrides


def rows(prices: list) -> pd.DataFrame:
    return pd.DataFrame({"row_id": np.arange(len(prices)), "price": prices})


def test_standard_scaler_uses_the_fitted_rows_mean_and_deviation():
    train = rows([1.0, 2.0, 3.0, 10.0])
    preprocessor = numerical.fit(train, options(add_missing_indicator=False))

    summary = numerical.describe(preprocessor)

    assert summary["mean"] == pytest.approx([4.0])
    assert summary["scale"] == pytest.approx([np.std([1.0, 2.0, 3.0, 10.0])])
    encoded = numerical.transform(preprocessor, train)
    assert numerical.model_input(encoded)[:, 0].mean() == pytest.approx(0.0, abs=1e-6)


def test_missing_indicator_is_added_only_for_columns_with_missing_training_values():
    train = pd.DataFrame({"row_id": range(3), "price": [1.0, None, 3.0], "rating": [4.0, 5.0, 3.0]})
    preprocessor = numerical.fit(train, options(columns=["price", "rating"]))

    assert preprocessor.output_names == ["price", "rating", "missingindicator_price"]


def test_missing_values_are_imputed_with_the_median_and_flagged():
    train = rows([1.0, np.nan, 3.0, 100.0])
    preprocessor = numerical.fit(train, options(scaling="none"))

    assert numerical.describe(preprocessor)["imputation_values"] == {"price": 3.0}
    assert preprocessor.output_names == ["price", "missingindicator_price"]
    encoded = numerical.transform(preprocessor, rows([np.nan, 5.0]))
    assert numerical.model_input(encoded).tolist() == [[3.0, 1.0], [5.0, 0.0]]


def test_missing_values_give_finite_features_after_scaling():
    train = rows([1.0, None, 3.0, 4.0])
    preprocessor = numerical.fit(train, options())

    values = numerical.model_input(numerical.transform(preprocessor, rows([None, None, 2.0])))

    assert np.isfinite(values).all()
    assert values.dtype == np.float32


def test_pandas_missing_values_in_nullable_columns_are_imputed():
    train = pd.DataFrame({"row_id": range(4), "price": pd.array([1, None, 3, 5], dtype="Int64")})
    preprocessor = numerical.fit(train, options(scaling="none", add_missing_indicator=False))

    values = numerical.model_input(numerical.transform(preprocessor, train))

    assert values[:, 0].tolist() == [1.0, 3.0, 3.0, 5.0]


@pytest.mark.parametrize("scaling", ["standard", "minmax", "robust", "none"])
def test_every_scaling_keeps_one_row_per_input_row_in_order(scaling):
    train = rows([5.0, 1.0, 3.0])
    preprocessor = numerical.fit(train, options(scaling=scaling))

    encoded = numerical.transform(preprocessor, train.iloc[::-1])

    assert encoded["row_id"].tolist() == [2, 1, 0]
    # No training value is missing, so no missing-indicator column is added.
    assert numerical.model_input(encoded).shape == (3, 1)


def test_text_in_a_numerical_column_is_refused_with_a_user_error():
    train = pd.DataFrame({"row_id": range(2), "price": ["12.5", "twelve"]})

    with pytest.raises(MultimodalKerasError, match="not numbers"):
        numerical.fit(train, options())


def test_no_configured_columns_encodes_to_no_features():
    preprocessor = numerical.fit(rows([1.0, 2.0]), options(columns=[]))

    encoded = numerical.transform(preprocessor, rows([1.0, 2.0, 3.0]))

    assert list(encoded.columns) == ["row_id"]
    assert len(encoded) == 3


def small_tower(encoding: str) -> dict:
    """``model.towers.numerical`` of a small tower with the given encoding."""
    return {
        "encoding": encoding,
        "frequencies": 4,
        "frequency_scales": [0.3, 30.0],
        "embedding_dim": 3,
        "units": [4],
        "dropout": 0.0,
    }


def test_quantile_bin_edges_come_from_the_training_rows_only():
    train = rows([float(value) for value in range(1, 101)])
    preprocessor = numerical.fit(train, options(scaling="none", bins=4))
    edges_before = [list(column) for column in preprocessor.bin_edges]

    numerical.transform(preprocessor, rows([1e9, -1e9]))

    assert edges_before[0] == pytest.approx([1.0, 25.75, 50.5, 75.25, 100.0])
    assert preprocessor.bin_edges == edges_before


def test_target_bin_edges_fall_where_the_target_changes():
    # Targets step at 30 and at 70; the values are spread evenly, so quantile edges would
    # cut at 25, 50 and 75 instead.
    values = np.arange(100, dtype=float)
    targets = np.select([values < 30, values < 70], [0.0, 5.0], 1.0).astype(np.float32)
    target_options = options(scaling="none", add_missing_indicator=False, bin_edges="target")

    preprocessor = numerical.fit(
        rows(values.tolist()), target_options | {"bins": 4, "bin_min_rows": 5}, targets=targets
    )

    assert preprocessor.bin_edges == [pytest.approx([0.0, 29.5, 69.5, 99.0])]


def test_target_bin_edges_split_a_mostly_zero_count_for_a_class_target():
    # Nine in ten values are 0: every quantile edge but the last is 0.
    values = np.r_[np.zeros(90), np.arange(1.0, 11.0)]
    classes = (values > 5).astype(np.int32)
    train = rows(values.tolist())
    settings = options(scaling="none", add_missing_indicator=False, bins=4, bin_min_rows=2)

    by_target = numerical.fit(train, settings | {"bin_edges": "target"}, targets=classes)
    by_quantile = numerical.fit(train, settings | {"bin_edges": "quantile"})

    assert by_quantile.bin_edges == [pytest.approx([0.0, 10.0])]
    assert 5.5 in by_target.bin_edges[0]
    assert by_target.bin_edges[0][0] == 0.0 and by_target.bin_edges[0][-1] == 10.0


def test_rows_without_a_target_do_not_move_the_target_bin_edges():
    values = np.arange(100, dtype=float)
    targets = (values >= 40).astype(np.float32)
    missing = targets.copy()
    missing[::3] = np.nan
    settings = options(scaling="none", add_missing_indicator=False, bins=2, bin_min_rows=5)
    settings |= {"bin_edges": "target"}

    complete = numerical.fit(rows(values.tolist()), settings, targets=targets)
    partial = numerical.fit(rows(values.tolist()), settings, targets=missing)

    assert complete.bin_edges == [pytest.approx([0.0, 39.5, 99.0])]
    assert partial.bin_edges[0][1] == pytest.approx(39.5, abs=1.0)


def test_target_bin_edges_need_the_targets():
    with pytest.raises(ValueError, match="targets"):
        numerical.fit(rows([1.0, 2.0, 3.0]), options(bins=2, bin_edges="target", bin_min_rows=1))


def test_piecewise_linear_encoding_fills_bins_up_to_the_value_with_open_outer_bins():
    layer = numerical.PiecewiseLinearEncoding([[0.0, 1.0, 2.0, 4.0], [5.0]], open_ends=True)
    values = np.array([[-1.0, 5.0], [1.5, 7.0], [10.0, 4.0]], dtype=np.float32)

    encoded = keras.ops.convert_to_numpy(layer(values))

    np.testing.assert_allclose(encoded[:, 0], [[-1.0, 0, 0], [1.0, 0.5, 0], [1.0, 1.0, 4.0]])
    # A constant feature has one open bin: its encoding is linear, the padding zero.
    np.testing.assert_allclose(encoded[:, 1], [[0.0, 0, 0], [2.0, 0, 0], [-1.0, 0, 0]])


def test_closed_piecewise_linear_encoding_reads_values_beyond_the_range_as_its_ends():
    layer = numerical.PiecewiseLinearEncoding([[0.0, 1.0, 2.0, 4.0]])
    values = np.array([[-1.0], [1.5], [10.0], [4.0]], dtype=np.float32)

    encoded = keras.ops.convert_to_numpy(layer(values))

    np.testing.assert_allclose(encoded[:, 0], [[0, 0, 0], [1.0, 0.5, 0], [1, 1, 1], [1, 1, 1]])


def test_wide_path_reads_values_within_the_training_range():
    train = rows([1.0, 2.0, 3.0, 4.0])
    preprocessor = numerical.fit(train, options(bins=2))
    inputs = keras.Input(shape=(len(preprocessor.output_names),), name="numerical")
    wide = keras.Model(inputs, numerical.wide_features("numerical", inputs, preprocessor, 1, {}))
    train_values = numerical.model_input(numerical.transform(preprocessor, train))
    far = numerical.model_input(numerical.transform(preprocessor, rows([-100.0, 2.5, 100.0])))

    read = wide.predict(far, verbose=0)

    lowest, highest = train_values[:, 0].min(), train_values[:, 0].max()
    np.testing.assert_allclose(read[:, 0], [lowest, far[1, 0], highest], rtol=1e-6)


def test_smooth_clip_keeps_ordinary_values_and_bounds_outliers():
    layer = numerical.SmoothClip(3.0)
    values = np.array([[-1e6, -0.2, 0.0, 0.5, 2.0, 8.0, 1e6]], dtype=np.float32)

    read = keras.ops.convert_to_numpy(layer(values))[0]

    np.testing.assert_allclose(read, values[0] / np.sqrt(1.0 + (values[0] / 3.0) ** 2), rtol=1e-6)
    # Within a standard deviation the value is kept to 2 %; beyond, it never passes 3.
    np.testing.assert_allclose(read[1:4], values[0, 1:4], rtol=0.02)
    assert np.all(np.diff(read) > 0)
    assert np.abs(read).max() <= 3.0
    # Eight deviations out reads as less than twice two deviations out: no slope runs on.
    assert read[5] < 2 * read[4]


def test_wide_path_reads_outliers_smoothly_clipped_within_the_training_range():
    train = rows([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 100.0])
    preprocessor = numerical.fit(train, options(bins=2))
    inputs = keras.Input(shape=(len(preprocessor.output_names),), name="numerical")
    tower = {"smooth_clip": 1.0}
    wide = keras.Model(inputs, numerical.wide_features("numerical", inputs, preprocessor, 1, tower))
    values = numerical.model_input(numerical.transform(preprocessor, rows([4.0, 100.0, 1e9])))

    read = wide.predict(values, verbose=0)[:, 0]

    expected = values[:2, 0] / np.sqrt(1.0 + values[:2, 0] ** 2)
    np.testing.assert_allclose(read[:2], expected, rtol=1e-6)
    # Beyond the training range a value reads as the training maximum does.
    np.testing.assert_allclose(read[2], read[1], rtol=1e-6)


@pytest.mark.parametrize(
    "encoding", ["piecewise_linear", "periodic", "piecewise_linear_and_periodic"]
)
def test_smoothed_tower_keeps_each_values_bins_and_reloads(encoding, tmp_path):
    train = rows(list(np.random.default_rng(0).lognormal(sigma=1.5, size=300)))
    preprocessor = numerical.fit(train, options(bins=8))
    tower = small_tower(encoding)
    values = numerical.model_input(numerical.transform(preprocessor, train))
    smoothed, plain = (
        keras.Model(*numerical.build_tower("numerical", preprocessor, tower | extra))
        for extra in ({"smooth_clip": 3.0}, {"smooth_clip": None})
    )

    assert "numerical_smooth_clip" in [layer.name for layer in smoothed.layers]
    assert "numerical_smooth_clip" not in [layer.name for layer in plain.layers]
    if encoding != "periodic":
        # The bins' edges are smoothed with the values: each value fills the same bins.
        def filled(model):
            layer = model.get_layer("numerical_piecewise_linear")
            encoder = keras.Model(model.input, layer.output)
            return (encoder.predict(values, verbose=0) >= 1.0 - 1e-6).sum(axis=-1)

        np.testing.assert_array_equal(filled(smoothed), filled(plain))
    smoothed.save(tmp_path / "tower.keras")
    reloaded = keras.models.load_model(tmp_path / "tower.keras", safe_mode=True)
    np.testing.assert_array_equal(
        reloaded.predict(values, verbose=0), smoothed.predict(values, verbose=0)
    )


def test_numerical_tower_with_piecewise_linear_embeddings_reloads_with_safe_mode(tmp_path):
    train = rows(list(np.random.default_rng(0).lognormal(size=200)))
    preprocessor = numerical.fit(train, options(bins=8))
    tower = {"encoding": "piecewise_linear", "embedding_dim": 3, "units": [4], "dropout": 0.0}
    inputs, output = numerical.build_tower("numerical", preprocessor, tower)
    model = keras.Model(inputs, output)
    values = numerical.model_input(numerical.transform(preprocessor, train))

    model.save(tmp_path / "tower.keras")
    reloaded = keras.models.load_model(tmp_path / "tower.keras", safe_mode=True)

    assert model.get_layer("numerical_piecewise_linear").output.shape[1:] == (1, 8)
    np.testing.assert_array_equal(
        reloaded.predict(values, verbose=0), model.predict(values, verbose=0)
    )


def test_periodic_encoding_is_cos_and_sin_of_each_features_own_frequencies():
    layer = numerical.PeriodicEncoding(frequencies=3, low=0.5, high=2.0)
    values = np.array([[0.0, 1.0], [0.25, -2.0]], dtype=np.float32)

    encoded = keras.ops.convert_to_numpy(layer(values))

    frequencies = keras.ops.convert_to_numpy(layer.coefficients) * np.array([0.5, 1.0, 2.0])
    angles = 2 * np.pi * values[..., None] * frequencies
    assert encoded.shape == (2, 2, 6)
    np.testing.assert_allclose(
        encoded, np.concatenate([np.cos(angles), np.sin(angles)], -1), rtol=1e-5, atol=1e-5
    )
    # Each feature has frequencies of its own.
    assert not np.allclose(frequencies[0], frequencies[1])


def test_periodic_tower_reads_values_beyond_the_training_range_as_its_ends(tmp_path):
    train = rows(list(np.random.default_rng(0).lognormal(size=200)))
    preprocessor = numerical.fit(train, options(bins=8))
    tower = small_tower("periodic")
    inputs, output = numerical.build_tower("numerical", preprocessor, tower)
    model = keras.Model(inputs, output)
    values = numerical.model_input(numerical.transform(preprocessor, train))
    highest = train["price"].max()
    beyond = numerical.model_input(
        numerical.transform(preprocessor, rows([highest, highest * 10, highest * 1000]))
    )

    model.save(tmp_path / "tower.keras")
    reloaded = keras.models.load_model(tmp_path / "tower.keras", safe_mode=True)

    assert model.get_layer("numerical_periodic").output.shape[1:] == (1, 8)
    np.testing.assert_array_equal(
        reloaded.predict(values, verbose=0), model.predict(values, verbose=0)
    )
    far = model.predict(beyond, verbose=0)
    np.testing.assert_allclose(far[1], far[0], rtol=1e-6)
    np.testing.assert_allclose(far[2], far[0], rtol=1e-6)


def test_both_encodings_sit_side_by_side_for_each_feature_and_reload(tmp_path):
    train = pd.DataFrame(
        {"row_id": range(200), "price": np.random.default_rng(0).lognormal(size=200)}
    )
    train["rating"] = np.random.default_rng(1).normal(size=200)
    preprocessor = numerical.fit(
        train, options(columns=["price", "rating"], add_missing_indicator=False, bins=8)
    )
    tower = small_tower("piecewise_linear_and_periodic")
    model = keras.Model(*numerical.build_tower("numerical", preprocessor, tower))
    values = numerical.model_input(numerical.transform(preprocessor, train))
    highest = train.loc[[train["price"].idxmax()] * 2].reset_index(drop=True)
    highest.loc[1, "price"] *= 1000
    beyond = numerical.model_input(numerical.transform(preprocessor, highest))

    model.save(tmp_path / "tower.keras")
    reloaded = keras.models.load_model(tmp_path / "tower.keras", safe_mode=True)

    # Per feature, its 8 bins' components, then cos and sin of its 4 frequencies.
    assert model.get_layer("numerical_encodings").output.shape[1:] == (2, 8 + 2 * 4)
    np.testing.assert_array_equal(
        reloaded.predict(values, verbose=0), model.predict(values, verbose=0)
    )
    far = model.predict(beyond, verbose=0)
    np.testing.assert_allclose(far[1], far[0], rtol=1e-6)


@pytest.mark.parametrize(
    ("rows_seen", "expected"),
    [
        (49, "piecewise_linear"),
        (50, "piecewise_linear_and_periodic"),
        (99, "piecewise_linear_and_periodic"),
        (100, "periodic"),
    ],
)
def test_auto_encoding_follows_the_configured_numbers_of_training_rows(rows_seen, expected):
    train = rows(list(np.random.default_rng(0).normal(size=rows_seen)))
    preprocessor = numerical.fit(train, options(bins=4))
    tower = small_tower("auto") | {"both_min_rows": 50, "periodic_min_rows": 100}

    inputs, output = numerical.build_tower("numerical", preprocessor, tower)

    assert numerical.chosen_encoding(preprocessor, tower) == expected
    layers = {layer.name for layer in keras.Model(inputs, output).layers}
    built = {"numerical_piecewise_linear", "numerical_periodic"} & layers
    assert (
        built
        == {
            "piecewise_linear": {"numerical_piecewise_linear"},
            "piecewise_linear_and_periodic": {"numerical_piecewise_linear", "numerical_periodic"},
            "periodic": {"numerical_periodic"},
        }[expected]
    )


def test_a_column_missing_in_every_training_row_is_named_in_a_warning(caplog):
    train = pd.DataFrame({"row_id": [0, 1, 2], "price": [1.0, 2.0, 3.0], "empty": [None] * 3})

    with caplog.at_level("WARNING"):
        numerical.fit(train, options(columns=["price", "empty"]))

    assert "Numerical column 'empty' is missing in every training row" in caplog.text


def test_a_fit_on_a_sample_records_every_training_rows_count():
    train = rows([1.0, 2.0, 3.0, 4.0])

    assert numerical.fit(train, options()).training_rows == 4
    assert numerical.fit(train, options(), training_rows=4000).training_rows == 4000


@pytest.mark.parametrize(("rows_seen", "clipped"), [(99, True), (100, False)])
def test_auto_smooth_clip_bounds_outliers_only_under_the_periodic_rows(rows_seen, clipped):
    train = rows(list(np.random.default_rng(0).normal(size=rows_seen - 1)) + [60.0])
    preprocessor = numerical.fit(train, options(bins=4))
    tower = small_tower("piecewise_linear") | {
        "smooth_clip": "auto",
        "auto_smooth_clip": 2.0,
        "periodic_min_rows": 100,
    }
    inputs = keras.Input(shape=(len(preprocessor.output_names),), name="numerical")
    wide = keras.Model(inputs, numerical.wide_features("numerical", inputs, preprocessor, 1, tower))
    tower_layers = {
        layer.name for layer in keras.Model(*numerical.build_tower("n", preprocessor, tower)).layers
    }
    outlier = numerical.model_input(numerical.transform(preprocessor, rows([60.0])))

    read = float(wide.predict(outlier, verbose=0)[0, 0])

    assert numerical.chosen_smooth_clip(preprocessor, tower) == (2.0 if clipped else None)
    assert ("n_smooth_clip" in tower_layers) is clipped
    # The outlier sits about ten deviations out: the wide path reads it below 2 when clipped.
    assert (read < 2.0) is clipped
    assert read == pytest.approx(
        outlier[0, 0] / np.sqrt(1.0 + (outlier[0, 0] / 2.0) ** 2) if clipped else outlier[0, 0],
        rel=1e-5,
    )


def test_from_the_periodic_rows_on_target_bins_and_auto_clipping_build_the_same_tower():
    # On a large table the default bins and clipping must give the model that quantile bins
    # without clipping give: there the encoding is periodic and the bins only bound the range.
    generator = np.random.default_rng(0)
    train = rows(list(generator.lognormal(sigma=1.5, size=120)))
    targets = (train["price"] > 3.0).astype(int).to_numpy()
    by_target = numerical.fit(
        train, options(bins=8, bin_edges="target", bin_min_rows=5), targets=targets
    )
    by_quantile = numerical.fit(train, options(bins=8))
    tower = small_tower("auto") | {
        "both_min_rows": 50,
        "periodic_min_rows": 100,
        "smooth_clip": "auto",
        "auto_smooth_clip": 3.0,
    }
    values = numerical.model_input(numerical.transform(by_target, rows([-5.0, 0.5, 3.0, 1e4])))

    predictions = []
    for preprocessor, settings in (
        (by_target, tower),
        (by_quantile, tower | {"smooth_clip": None}),
    ):
        keras.utils.set_random_seed(0)
        model = keras.Model(*numerical.build_tower("numerical", preprocessor, settings))
        wide_inputs = keras.Input(shape=(values.shape[1],), name="numerical")
        wide = keras.Model(
            wide_inputs,
            numerical.wide_features("numerical", wide_inputs, preprocessor, 1, settings),
        )
        predictions.append((model.predict(values, verbose=0), wide.predict(values, verbose=0)))

    assert by_target.bin_edges != by_quantile.bin_edges
    np.testing.assert_array_equal(predictions[0][0], predictions[1][0])
    np.testing.assert_array_equal(predictions[0][1], predictions[1][1])
