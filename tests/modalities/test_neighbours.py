"""The neighbours modality: what the training rows sharing a row's names scored."""

from __future__ import annotations

import keras
import numpy as np
import pandas as pd
import pytest
import tensorflow as tf

from multimodal_keras.errors import MultimodalKerasError
from multimodal_keras.modalities import neighbours
from multimodal_keras.pipelines.features.nodes import encoded_chunk
from multimodal_keras.validation import check_roles

OPTIONS = {
    "columns": ["director", "cast"],
    "separator": ",",
    "max_tokens": 1000,
    "max_names": 8,
    "max_rows": 1000,
    "powers": [1.0, 2.0],
    "priors": [0.1, 1.0],
    "block_rows": 7,
    "batch_size": 5,
}
PEOPLE = ["Ann", "Bo", "Cy", "Di", "Ed", "Fa", "Gil", "Hu"]


def films(rows: int, seed: int) -> pd.DataFrame:
    """Films with a director and two to four cast members each, and a number to predict
    that depends on who made them."""
    rng = np.random.default_rng(seed)
    directors = rng.choice(PEOPLE[:5], rows)
    cast = [", ".join(rng.choice(PEOPLE, rng.integers(2, 5), replace=False)) for _ in range(rows)]
    effect = dict(zip(PEOPLE, rng.normal(size=len(PEOPLE)), strict=True))
    value = np.array([effect[d] for d in directors]) + rng.normal(scale=0.3, size=rows)
    return pd.DataFrame(
        {"row_id": np.arange(rows) + 100 * seed, "director": directors, "cast": cast, "y": value}
    )


def by_hand(
    train: pd.DataFrame,
    rows: pd.DataFrame,
    fitted: neighbours.NeighboursPreprocessor,
    idf_rows: pd.DataFrame | None = None,
):
    """Kernel regression written out: sublinear TF-IDF of whole names (IDF of ``idf_rows``,
    else of ``train``), cosine similarity to the power, prior at ``train``'s mean."""

    def names(frame: pd.DataFrame) -> list[set[str]]:
        return [
            {f"0{neighbours.TOKEN_JOIN}{d.strip()}"}
            | {f"1{neighbours.TOKEN_JOIN}{c.strip()}" for c in cast.split(",") if c.strip()}
            for d, cast in zip(frame.director, frame.cast, strict=True)
        ]

    known, asked = names(train), names(rows)
    counted = names(train if idf_rows is None else idf_rows)
    frequency = pd.Series([n for row in counted for n in row]).value_counts()
    idf = np.log((1 + len(counted)) / (1 + frequency)) + 1

    def vector(row: set[str]) -> pd.Series:
        held = pd.Series({n: idf[n] for n in row if n in idf.index}, dtype=float)
        return held / np.sqrt((held**2).sum())

    estimates, masses = [], []
    for row in asked:
        mine = vector(row)
        weights = np.array([mine.mul(vector(other), fill_value=0).sum() for other in known])
        weights = np.clip(weights, 0, None) ** fitted.power
        mean = train.y.mean()
        estimates.append((weights @ train.y + fitted.prior * mean) / (weights.sum() + fitted.prior))
        masses.append(np.log1p(weights.sum()))
    return np.array(estimates), np.array(masses)


def fit(train: pd.DataFrame, **changes) -> neighbours.NeighboursPreprocessor:
    return neighbours.fit(train, OPTIONS | changes, targets=train.y.to_numpy(np.float32))


def raw_features(fitted: neighbours.NeighboursPreprocessor, standard: np.ndarray) -> np.ndarray:
    return standard * fitted.scale + fitted.mean


def test_new_rows_read_the_kernel_over_every_fitted_row():
    train, new = films(60, 0), films(9, 1)
    fitted = fit(train)
    features = raw_features(fitted, neighbours.transform(fitted, new))
    estimates, masses = by_hand(train, new, fitted)
    np.testing.assert_allclose(features[:, 0], estimates, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(features[:, 1], masses, rtol=1e-4, atol=1e-5)


def test_a_fitted_row_is_left_out_of_its_own_neighbours_and_counts():
    train = films(40, 0)
    fitted = fit(train)
    features = raw_features(fitted, fitted.fitted_features)
    for row in (0, 17):
        others = train.drop(index=row)
        # The names' IDF is of every fitted row: it reads no target.
        estimate, _ = by_hand(others, train.iloc[[row]], fitted, idf_rows=train)
        np.testing.assert_allclose(features[row, 0], estimate[0], rtol=1e-4, atol=1e-5)
        director = train.director.iloc[row]
        held_by_others = (others.director == director).sum()
        # The director's column: the largest and the mean count of other rows holding it.
        np.testing.assert_allclose(features[row, 2:4], np.log1p([held_by_others] * 2), rtol=1e-5)


def test_the_models_layer_gives_a_fitted_row_its_leave_one_out_features():
    train = films(40, 0)
    fitted = fit(train)
    ids = neighbours.token_ids(fitted, train)
    positions = np.arange(1, len(train) + 1, dtype=np.int32)[:, None]
    layer = neighbours.features_layer("features", fitted)
    computed = keras.ops.convert_to_numpy(layer(np.hstack([ids, positions])))
    np.testing.assert_allclose(computed, fitted.fitted_features, rtol=1e-4, atol=1e-4)


def test_a_fitted_rows_features_never_read_its_own_target():
    train = films(40, 0)
    changed = train.copy()
    changed.loc[5, "y"] = 1000.0
    before = raw_features(fit(train), fit(train).fitted_features)
    after_fit = fit(changed, powers=[fit(train).power], priors=[fit(train).prior])
    after = raw_features(after_fit, after_fit.fitted_features)
    np.testing.assert_allclose(after[5], before[5], rtol=1e-5, atol=1e-5)
    assert not np.allclose(after[:, 0], before[:, 0])  # the others read row 5's new target


def test_only_the_features_pipeline_gives_fitted_rows_their_own_features():
    train = films(40, 0)
    fitted = fit(train)
    rows = train.iloc[:6]
    as_features = encoded_chunk("neighbours", fitted, rows, out_of_fold=True)
    as_new_rows = encoded_chunk("neighbours", fitted, rows)
    np.testing.assert_allclose(as_features, fitted.fitted_features[:6])
    # Rows to score whose ids repeat training rows' are read as new rows: from every row.
    np.testing.assert_allclose(as_new_rows, neighbours.transform(fitted, rows))
    assert not np.allclose(as_features, as_new_rows)


def test_beyond_max_rows_the_kernel_holds_a_seeded_sample_and_the_rest_read_it_as_new_rows():
    train = films(60, 0)
    fitted = neighbours.fit(
        train, OPTIONS | {"max_rows": 25}, targets=train.y.to_numpy(np.float32), seed=3
    )
    again = neighbours.fit(
        train, OPTIONS | {"max_rows": 25}, targets=train.y.to_numpy(np.float32), seed=3
    )

    assert len(fitted.row_ids) == 25 and set(fitted.row_ids) < set(train.row_id)
    np.testing.assert_array_equal(fitted.row_ids, again.row_ids)
    # The features pipeline: the sampled rows read the kernel without themselves, the
    # other training rows read it whole, as rows to score do (their targets are not in it).
    features = encoded_chunk("neighbours", fitted, train, out_of_fold=True)
    sampled = train.row_id.isin(fitted.row_ids).to_numpy()
    np.testing.assert_allclose(features[sampled], fitted.fitted_features)
    np.testing.assert_allclose(features[~sampled], neighbours.transform(fitted, train[~sampled]))
    kept = train[sampled]
    estimate, _ = by_hand(kept, train[~sampled], fitted)
    np.testing.assert_allclose(
        raw_features(fitted, features[~sampled])[:, 0], estimate, rtol=1e-4, atol=1e-5
    )


def test_the_serving_input_reads_raw_cells_as_transform_does():
    train = films(40, 0)
    fitted = fit(train)
    new = pd.DataFrame(
        {
            "row_id": [0, 1, 2, 3],
            "director": ["Ann", " Bo ", None, "Nobody"],
            "cast": ["Di ,Ed", "", "Gil, Zed, , Hu", None],
        }
    )
    inputs, features = neighbours.build_serving_input("neighbours", fitted)
    serving = keras.Model(inputs, features)
    cells = {
        column: tf.constant(new[column].astype("string").fillna("").to_numpy(dtype=object))
        for column in inputs
    }
    served = keras.ops.convert_to_numpy(serving(cells))
    np.testing.assert_allclose(served, neighbours.transform(fitted, new), rtol=1e-6, atol=1e-6)


def test_names_are_whole_stripped_cells_and_split_only_by_the_separator():
    rows = pd.DataFrame({"row_id": [0, 1], "director": ["Ann Lee", "Ann"], "cast": ["A, B", "A,B"]})
    whole = neighbours.fit(rows, OPTIONS | {"separator": None}, targets=np.zeros(2, np.float32))
    split = neighbours.fit(rows, OPTIONS, targets=np.zeros(2, np.float32))
    assert sorted(name.split(neighbours.TOKEN_JOIN)[1] for name in whole.vocabulary) == [
        "A, B", "A,B", "Ann", "Ann Lee",
    ]  # fmt: skip
    assert sorted(name.split(neighbours.TOKEN_JOIN)[1] for name in split.vocabulary) == [
        "A", "Ann", "Ann Lee", "B",
    ]  # fmt: skip


@pytest.mark.parametrize("task", ["binary", "multiclass"])
def test_classes_give_one_estimate_per_class_beyond_the_first_of_two(task):
    train = films(50, 0)
    classes = 2 if task == "binary" else 3
    targets = (pd.qcut(train.y, classes, labels=False)).to_numpy(np.int32)
    fitted = neighbours.fit(train, OPTIONS, targets=targets)
    outputs = 1 if classes == 2 else classes
    assert fitted.outputs == outputs
    assert fitted.features == outputs + 1 + 2 * len(OPTIONS["columns"])
    estimates = raw_features(fitted, neighbours.transform(fitted, films(5, 1)))[:, :outputs]
    assert ((estimates >= 0) & (estimates <= 1)).all()


def test_the_power_and_prior_are_chosen_by_the_training_rows_leave_one_out_loss():
    fitted = fit(films(60, 0))
    assert len(fitted.losses) == 4
    best = min(fitted.losses, key=fitted.losses.get)
    assert best == f"power {fitted.power:g}, prior {fitted.prior:g}"


def test_the_modality_is_off_without_columns_and_adds_no_input():
    fitted = neighbours.fit(films(10, 0), OPTIONS | {"columns": []}, targets=np.zeros(10))
    assert not neighbours.is_active(fitted)
    assert neighbours.encoded_shape(fitted)[0] == (0,)


def test_categories_and_texts_may_be_read_again_but_numbers_may_not():
    check_roles(
        "y", {"categorical": ["director"], "text": ["cast"], "neighbours": ["director", "cast"]}
    )
    with pytest.raises(MultimodalKerasError, match="under both numerical and neighbours"):
        check_roles("y", {"numerical": ["year"], "neighbours": ["year"]})


AUTO = {"min_names": 100, "max_words": 4, "min_share": 0.5}


def catalogue(rows: int, directors: int, seed: int = 0) -> pd.DataFrame:
    """Films of ``directors`` directors (each of several films), a cast drawn from 400
    actors, a title of their own and a sentence of review each."""
    rng = np.random.default_rng(seed)
    actors = [f"Actor {number}" for number in range(400)]
    return pd.DataFrame(
        {
            "row_id": np.arange(rows),
            "director": [f"Director {number}" for number in rng.integers(0, directors, rows)],
            "cast": [", ".join(rng.choice(actors, 3, replace=False)) for _ in range(rows)],
            "title": [f"Title {number}" for number in range(rows)],
            "review": [
                f"a film I watched on day {number} and would rather not see again"
                for number in rng.integers(0, 3, rows)
            ],
            "y": rng.normal(size=rows),
        }
    )


def fit_auto(train: pd.DataFrame, **more: str) -> neighbours.NeighboursPreprocessor:
    candidates = {"director": "categorical", "cast": "text", "title": "text", "review": "text"}
    candidates |= more
    return neighbours.fit(
        train,
        OPTIONS | {"columns": "auto", "auto": AUTO},
        targets=train.y.to_numpy(np.float32),
        candidates=candidates,
    )


def test_auto_reads_the_categories_and_name_lists_where_names_recur_by_the_hundreds():
    fitted = fit_auto(catalogue(900, directors=300))

    # Categories and the cast list: not the titles (each names one film) nor the reviews
    # (sentences, however often one repeats).
    assert fitted.columns == ["director", "cast"]
    assert neighbours.is_active(fitted)
    assert fitted.candidates["director"]["recurring_names"] >= 100
    assert fitted.candidates["title"]["shared_rows"] == 0
    assert fitted.candidates["review"]["median_words"] > AUTO["max_words"]
    assert neighbours.describe(fitted)["candidates"]["cast"]["chosen"]


def test_auto_leaves_the_neighbours_off_where_no_column_holds_names_by_the_hundreds():
    # Five directors: categories the network reads well by itself; 400 actors, but each
    # film's cast shares no name with another's.
    table = catalogue(900, directors=5)
    table["cast"] = [f"Actor {number}" for number in range(len(table))]

    fitted = fit_auto(table)

    assert fitted.columns == [] and not neighbours.is_active(fitted)
    assert neighbours.encoded_shape(fitted)[0] == (0,)
    assert fitted.candidates["director"] == {
        "recurring_names": 5,
        "shared_rows": 1.0,
        "median_words": 2.0,
        "names": True,
        "chosen": False,
    }


def test_auto_leaves_out_a_text_column_that_names_what_a_category_names():
    table = catalogue(900, directors=300)
    # Each director's films give one spelling of the name: the same names, read twice.
    table["credited_as"] = table.director.str.replace("Director", "D.")

    fitted = fit_auto(table, credited_as="text")

    assert fitted.columns == ["director", "cast"]
    assert fitted.candidates["credited_as"]["repeats_a_category"]
    assert fitted.candidates["credited_as"]["recurring_names"] >= 100
    assert not fitted.candidates["cast"]["repeats_a_category"]


def test_a_category_of_one_row_each_does_not_hide_the_name_lists():
    table = catalogue(900, directors=300)
    table["code"] = [f"C{number}" for number in range(len(table))]  # one row each

    fitted = fit_auto(table, code="categorical")

    assert fitted.columns == ["director", "cast", "code"]
    assert not fitted.candidates["cast"]["repeats_a_category"]
