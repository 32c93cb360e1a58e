"""Text columns: a vocabulary from the fitted rows, token ids from TextVectorization."""

from __future__ import annotations

import pickle

import keras
import numpy as np
import pandas as pd
import pytest
import tensorflow as tf

from multimodal_keras.errors import MultimodalKerasError
from multimodal_keras.modalities import text

OOV_ID = 1


def options(**overrides):
    return {
        "columns": ["description"],
        "max_tokens": 100,
        "sequence_length": 6,
        "standardize": "lower_and_strip_punctuation",
        "split": "whitespace",
        "ngrams": None,
        "characters_per_id": 64,
        "batch_size": 2,
    } | overrides


def rows(**columns: list) -> pd.DataFrame:
    length = len(next(iter(columns.values())))
    return pd.DataFrame({"row_id": np.arange(length), **columns})


TRAIN = rows(
    description=["Lovely red bike.", "Red bike, barely used!", "A lovely lamp", "Bike lamp"]
)


def test_word_seen_only_outside_the_fitted_rows_is_out_of_vocabulary():
    preprocessor = text.fit(TRAIN, options())

    ids = text.transform(preprocessor, rows(description=["unicycle bike"]))

    assert "unicycle" not in preprocessor.vocabulary
    assert ids[0, 0, 0] == OOV_ID
    assert ids[0, 0, 1] == preprocessor.vocabulary.index("bike")


def test_vocabulary_starts_with_padding_and_out_of_vocabulary_tokens():
    preprocessor = text.fit(TRAIN, options())

    assert preprocessor.vocabulary[:2] == ["", "[UNK]"]
    assert preprocessor.vocabulary[2] == "bike"


def test_layer_rebuilt_from_the_pickled_vocabulary_gives_the_adapted_layers_ids():
    settings = options()
    preprocessor = pickle.loads(pickle.dumps(text.fit(TRAIN, settings)))
    adapted = keras.layers.TextVectorization(
        max_tokens=settings["max_tokens"],
        standardize=settings["standardize"],
        split=settings["split"],
        output_mode="int",
        output_sequence_length=settings["sequence_length"],
    )
    adapted.adapt(TRAIN["description"].to_numpy(dtype=str))
    probe = ["Lovely, lovely BIKE", "a lamp used barely by nobody", "", "red " * 7]

    expected = adapted(tf.constant(probe)).numpy()

    assert text.transform(preprocessor, rows(description=probe))[:, 0].tolist() == (
        expected.tolist()
    )
    assert preprocessor.vectorizer()(tf.constant(probe)).numpy().tolist() == expected.tolist()


def test_ids_have_shape_rows_by_columns_by_sequence_length_and_pad_with_zero():
    train = rows(title=["red bike", "lamp"], description=["lovely", "barely used"])
    preprocessor = text.fit(train, options(columns=["title", "description"]))

    ids = text.transform(preprocessor, rows(title=["red", "lamp lamp"], description=["a", None]))

    assert ids.shape == (2, 2, 6)
    assert ids.dtype == np.int32
    assert ids[0, 0].tolist() == [preprocessor.vocabulary.index("red"), 0, 0, 0, 0, 0]
    assert ids[1, 1].tolist() == [0] * 6


def test_text_columns_share_one_vocabulary_learnt_from_all_of_them():
    train = rows(title=["alpha"], description=["beta"])
    preprocessor = text.fit(train, options(columns=["title", "description"]))

    assert {"alpha", "beta"} <= set(preprocessor.vocabulary)


def test_missing_text_is_all_padding():
    preprocessor = text.fit(TRAIN, options())

    ids = text.transform(preprocessor, rows(description=[None, pd.NA, "bike"]))

    assert ids[0].tolist() == [[0] * 6]
    assert ids[1].tolist() == [[0] * 6]
    assert ids[2, 0, 0] != 0


def test_rows_beyond_one_batch_are_all_encoded_in_order():
    preprocessor = text.fit(TRAIN, options(batch_size=2))
    words = ["bike", "lamp", "red", "lovely", "used"]

    ids = text.transform(preprocessor, rows(description=words))

    assert ids[:, 0, 0].tolist() == [preprocessor.vocabulary.index(word) for word in words]


def test_vocabulary_is_capped_at_max_tokens():
    preprocessor = text.fit(TRAIN, options(max_tokens=4))

    assert len(preprocessor.vocabulary) == 4


def test_tfidf_shares_sum_to_scikit_learns_sublinear_tfidf_of_the_same_ids():
    from sklearn.feature_extraction.text import TfidfVectorizer

    train = rows(description=["red bike red bike", "red lamp", "blue bike lamp", "blue blue"])
    preprocessor = text.fit(train, options(ngrams=2, sequence_length=12))
    ids = text.model_input(text.transform(preprocessor, train))

    shares = keras.ops.convert_to_numpy(text.TfIdfShares(preprocessor.idf)(ids))
    # Summing each id's shares per row gives the row's TF-IDF vector.
    size = len(preprocessor.vocabulary)
    weights = np.zeros((len(ids), size))
    for row in range(len(ids)):
        np.add.at(weights[row], ids[row, 0], shares[row, 0])

    tokens = [[int(i) for i in row if i >= text.FIRST_TOKEN_ID] for row in ids[:, 0]]
    reference = TfidfVectorizer(
        analyzer=lambda row: row,
        vocabulary=range(size),
        sublinear_tf=True,
        lowercase=False,
    ).fit(tokens)
    np.testing.assert_allclose(weights, reference.transform(tokens).toarray(), atol=1e-6)
    assert "red bike" in preprocessor.vocabulary


def test_document_frequencies_come_from_the_training_rows_only():
    preprocessor = text.fit(TRAIN, options())
    before = list(preprocessor.idf)

    ids = text.transform(preprocessor, rows(description=["zebra zebra lamp"]))

    assert preprocessor.idf == before
    lamp = preprocessor.vocabulary.index("lamp")
    assert before[lamp] == np.log((1 + 4) / (1 + 2)) + 1
    assert before[: text.FIRST_TOKEN_ID] == [0.0, 0.0]
    assert ids[0, 0, :3].tolist() == [OOV_ID, OOV_ID, lamp]


def test_auto_sequence_length_is_a_high_percentile_of_the_training_id_counts():
    words = [" ".join(["word"] * count) for count in range(1, 21)]
    auto = options(
        sequence_length="auto",
        length_percentile=90,
        min_sequence_length=2,
        max_sequence_length=15,
    )

    assert text.fit(rows(description=words), auto).sequence_length == 15
    assert (
        text.fit(rows(description=words), auto | {"max_sequence_length": 64}).sequence_length == 19
    )
    assert text.fit(rows(description=["a b"] * 5), auto).sequence_length == 2


def test_auto_gives_each_column_its_own_length_and_pads_beyond_it():
    train = rows(
        description=[" ".join(["word"] * count) for count in range(10, 20)],
        title=["short title"] * 10,
    )
    auto = options(
        columns=["description", "title"],
        sequence_length="auto",
        length_percentile=100,
        min_sequence_length=1,
        max_sequence_length=64,
    )
    preprocessor = text.fit(train, auto)

    ids = text.transform(preprocessor, rows(description=["word " * 30], title=["title " * 30]))

    assert preprocessor.lengths() == [19, 2]
    assert ids.shape == (1, 2, 19)
    assert (ids[0, 0] != text.PADDING_ID).all()
    assert (ids[0, 1, :2] != text.PADDING_ID).all()
    assert (ids[0, 1, 2:] == text.PADDING_ID).all()


def test_tfidf_bag_equals_a_dense_layer_over_each_columns_tfidf_vector():
    train = rows(
        description=["red bike red bike", "red lamp", "blue bike lamp", "blue blue"],
        title=["bike", "lamp lamp", "", "red blue red"],
    )
    preprocessor = text.fit(train, options(columns=["description", "title"], sequence_length=8))
    ids = text.model_input(text.transform(preprocessor, train))
    size = len(preprocessor.vocabulary)
    shares = text.TfIdfShares(preprocessor.idf)(ids)
    bag = text.WeightedBag(2, size, 3)
    summed = text.WeightedBag(2, size, 3, sum_columns=True)

    per_column = keras.ops.convert_to_numpy(bag([ids, shares]))
    summed([ids, shares])
    summed.set_weights(bag.get_weights())
    total = keras.ops.convert_to_numpy(summed([ids, shares]))

    vectors, values = np.zeros((len(ids), 2, size)), keras.ops.convert_to_numpy(shares)
    for row, column in np.ndindex(len(ids), 2):
        np.add.at(vectors[row, column], ids[row, column], values[row, column])
    table = bag.get_weights()[0].reshape(2, size, 3)
    expected = np.einsum("rcv,cvu->rcu", vectors, table)
    np.testing.assert_allclose(per_column, expected, atol=1e-6)
    np.testing.assert_allclose(total, expected.sum(axis=1), atol=1e-6)


def test_average_encoder_leaves_padding_out_of_the_mean():
    ids = np.array([[[5, 7, 0, 0]], [[5, 7, 7, 0]]], dtype=np.int32)

    shares = keras.ops.convert_to_numpy(text.TokenMeans()(ids))

    np.testing.assert_allclose(shares[0, 0], [0.5, 0.5, 0.0, 0.0])
    np.testing.assert_allclose(shares[1, 0], [1 / 3, 1 / 3, 1 / 3, 0.0])


def test_ngrams_in_fewer_training_texts_than_the_minimum_are_out_of_vocabulary():
    train = rows(description=["red bike", "red lamp", "blue bike", "rare word"])
    preprocessor = text.fit(train, options(min_document_frequency=2))

    ids = text.transform(preprocessor, rows(description=["rare red bike"]))

    assert preprocessor.vocabulary[2:] == ["red", "bike"]
    assert ids[0, 0, :3].tolist() == [OOV_ID, 2, 3]
    # IDF counts the texts with the kept n-grams as before: "red" is in 2 of 4.
    assert preprocessor.idf[2] == np.log((1 + 4) / (1 + 2)) + 1


def test_words_split_at_any_punctuation_and_lower_case_in_any_script():
    train = rows(description=["“Trump’s” U.S.-based ÉCOLE", "trump s us based école"])
    preprocessor = text.fit(
        train, options(standardize="lower_and_split_punctuation", max_tokens=50)
    )

    first, second = text.transform(preprocessor, train)[:, 0]

    assert sorted(preprocessor.vocabulary[2:]) == ["based", "s", "trump", "u", "us", "école"]
    assert first[first != 0].tolist()[:2] == second[second != 0].tolist()[:2]


def test_when_no_ngram_reaches_the_minimum_document_frequency_all_are_kept(caplog):
    train = rows(description=["red bike", "blue lamp"])

    preprocessor = text.fit(train, options(min_document_frequency=2))

    assert sorted(preprocessor.vocabulary[2:]) == ["bike", "blue", "lamp", "red"]
    assert "min_document_frequency" in caplog.text


def test_a_huge_cell_is_read_up_to_its_columns_character_budget_only():
    train = rows(description=["red shoe", "blue shoe", "red hat", "green hat"])
    preprocessor = text.fit(train, options(sequence_length=4, characters_per_id=3))
    huge = "red " * 250_000  # a 1 MB cell

    encoded = text.transform(preprocessor, rows(description=[huge, huge[:12]]))

    assert preprocessor.character_budgets() == [12]
    np.testing.assert_array_equal(encoded[0], encoded[1])


def test_text_empty_in_every_training_row_stops_with_one_sentence():
    train = rows(description=["", None, "   "])

    with pytest.raises(MultimodalKerasError, match=r"\['description'\] are empty or missing"):
        text.fit(train, options())


def test_one_empty_text_column_beside_a_full_one_is_named_in_a_warning(caplog):
    train = rows(description=["red shoe", "blue hat"], title=[None, ""])

    with caplog.at_level("WARNING"):
        preprocessor = text.fit(train, options(columns=["description", "title"]))

    assert "Text column 'title' is empty or missing in every training row" in caplog.text
    assert "red" in preprocessor.vocabulary


def test_table_learning_rate_factor_keeps_the_bag_and_slows_its_steps():
    ids = np.array([[[2, 3, 4, 0]], [[3, 5, 0, 0]]], dtype=np.int32)
    shares = np.full(ids.shape, 0.5, dtype=np.float32)
    outputs = {}
    for factor in (1.0, 0.1):
        keras.utils.set_random_seed(0)
        bag = text.WeightedBag(1, 6, 3, step_scale=factor)
        before = keras.ops.convert_to_numpy(bag([ids, shares]))
        adam = keras.optimizers.Adam(learning_rate=0.01)
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(bag([ids, shares]))
        gradients = tape.gradient(loss, bag.trainable_weights)
        adam.apply_gradients(zip(gradients, bag.trainable_weights, strict=True))
        outputs[factor] = before, keras.ops.convert_to_numpy(bag([ids, shares])) - before

    # The same bag at the start; each optimizer step moves it by the factor's share.
    np.testing.assert_allclose(outputs[0.1][0], outputs[1.0][0], atol=1e-6)
    assert np.abs(outputs[1.0][1]).min() > 1e-3
    np.testing.assert_allclose(outputs[0.1][1], 0.1 * outputs[1.0][1], rtol=1e-3, atol=1e-7)


def test_auto_factor_slows_the_tables_only_where_every_text_is_short():
    review = " ".join(f"word{index}" for index in range(40))
    preprocessor = text.fit(
        rows(title=["red kettle", "blue pot"] * 4, review=[review] * 8),
        options(
            columns=["title", "review"],
            sequence_length="auto",
            length_percentile=95,
            min_sequence_length=2,
            max_sequence_length=64,
        ),
    )
    title_ids, review_ids = preprocessor.lengths()
    tower = {"table_learning_rate_factor": "auto", "short_text_factor": 0.3}

    assert title_ids < review_ids
    # Beside a review as long as long_text_ids, the titles' tables learn at full speed too.
    assert text.table_step_scale(preprocessor, tower | {"long_text_ids": review_ids}) == 1.0
    assert text.table_step_scale(preprocessor, tower | {"long_text_ids": review_ids + 1}) == 0.3
    assert text.table_step_scale(preprocessor, {"table_learning_rate_factor": 0.5}) == 0.5
