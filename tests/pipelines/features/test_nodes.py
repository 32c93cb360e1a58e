"""The per-modality nodes: preprocessors fitted on training rows only, every row transformed.

The nodes are taken from the features pipeline and run as Kedro runs them, so that
the wiring (which rows and which parameters reach the modality) is checked too.
"""

from __future__ import annotations

import logging
import pickle
from typing import Any

import numpy as np
import pandas as pd
import pytest

from multimodal_keras import tables
from multimodal_keras.chunked import ChunkedArray
from multimodal_keras.datasets import NumpyDataset
from multimodal_keras.errors import MultimodalKerasError
from multimodal_keras.modalities import MODALITIES, categorical, numerical, text
from multimodal_keras.modalities.base import candidate_columns
from multimodal_keras.modalities.names import NEIGHBOURS
from multimodal_keras.pipelines import features
from multimodal_keras.pipelines.data_processing.nodes import fit_target, split_rows
from multimodal_keras.pipelines.features.nodes import training_sample
from multimodal_keras.splitting import (
    TEST,
    TRAIN,
    VALIDATION,
    split_positions,
    training_rows_digest,
)
from multimodal_keras.validation import with_row_ids
from tests.fitting import column_sources, given_candidates, reads_targets

OOV_ID = 1


def run_node(name: str, inputs: dict[str, Any]) -> Any:
    """Run one node of the features pipeline by name and return its single output."""
    node = next(node for node in features.create_pipeline().nodes if node.name == name)
    (output,) = node.run(inputs).values()
    return output


@pytest.fixture
def small_parameters(small_parameters) -> dict[str, Any]:
    """The small parameters, with ``neighbours.columns: auto`` choosing every categorical
    and text column whose names two training rows hold (the tiny tables' names recur by
    the few, not the hundreds), so that the neighbours' nodes fit and transform too."""
    small_parameters["neighbours"]["columns"] = "auto"
    small_parameters["neighbours"]["auto"] = {"min_names": 1, "max_words": 100, "min_share": 0.01}
    return small_parameters


def fit_through_node(modality: str, primary: pd.DataFrame, assignments, params) -> Any:
    targets = {"target_encoder": fit_target(primary, assignments, params["table"])}
    return run_node(
        f"{modality}.fit_preprocessor",
        {
            "primary_table": primary,
            "split_assignments": assignments,
            f"params:{modality}": params[modality],
            "params:processing": params["processing"],
            "params:seed": params["seed"],
            **(targets if reads_targets(modality) else {}),
            **{
                f"params:{source}": value
                for source, value in column_sources(modality, params).items()
            },
        },
    )


def transform_through_node(modality: str, preprocessor: Any, primary, params) -> np.ndarray:
    encoded = run_node(
        f"{modality}.transform",
        {
            f"{modality}.preprocessor": preprocessor,
            "primary_table": primary,
            "params:processing": params["processing"],
        },
    )
    assert isinstance(encoded, ChunkedArray)
    return np.asarray(encoded)


@pytest.fixture
def split_table(tiny_primary_table: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A primary table whose validation and test rows hold values no training row has.

    Splits are interleaved and row ids differ from positions, so that taking the
    wrong rows, or rows by id instead of position, changes what is fitted.
    """
    primary = tiny_primary_table.copy()
    primary["row_id"] = 9000 - 7 * np.arange(len(primary))
    pattern = np.array([TRAIN, TEST, TRAIN, VALIDATION, TRAIN])
    split = pattern[np.arange(len(primary)) % len(pattern)]
    assignments = pd.DataFrame({"row_id": primary["row_id"], "split": split})
    for name, offset in ((TEST, 1e6), (VALIDATION, 2e6)):
        held_out = split == name
        primary.loc[held_out, "category"] = f"only_in_{name}"
        primary.loc[held_out, "price"] = offset + np.arange(held_out.sum())
        primary.loc[held_out, "description"] = f"zeppelin_{name} " * 3
    return primary, assignments


def training_rows(primary: pd.DataFrame, assignments: pd.DataFrame) -> pd.DataFrame:
    return primary.iloc[split_positions(assignments, TRAIN)]


@pytest.mark.parametrize("unseen", ["own", "rare"])
def test_categories_only_in_held_out_rows_are_unseen_after_fitting_through_the_node(
    split_table, project_parameters, unseen
):
    primary, assignments = split_table
    project_parameters["categorical"]["unseen"] = unseen

    preprocessor = fit_through_node("categorical", primary, assignments, project_parameters)

    assert not any("only_in" in name for name in preprocessor.output_names)
    encoded = categorical.model_input(categorical.transform(preprocessor, primary))
    names = [n for n in preprocessor.output_names if n.startswith("category_")]
    block = encoded[:, [n.startswith("category_") for n in preprocessor.output_names]]
    held_out = assignments["split"].to_numpy() != TRAIN
    assert np.all(block[~held_out].sum(axis=1) == 1)
    if unseen == "own":
        assert np.all(block[held_out] == 0)
    else:
        # Read as the rare training categories: their shared column, set by training rows too.
        rare = names.index("category_infrequent_sklearn")
        assert np.all(block[held_out].sum(axis=1) == 1)
        assert np.all(block[held_out][:, rare] == 1)
        assert block[~held_out][:, rare].any()


@pytest.mark.parametrize("unseen", ["own", "rare"])
def test_categories_only_in_held_out_rows_get_the_unseen_embedding_index_through_the_node(
    split_table, project_parameters, unseen
):
    primary, assignments = split_table
    project_parameters["categorical"]["encoding"] = "embedding"
    project_parameters["categorical"]["unseen"] = unseen

    preprocessor = fit_through_node("categorical", primary, assignments, project_parameters)

    indices = categorical.model_input(categorical.transform(preprocessor, primary))
    held_out = assignments["split"].to_numpy() != TRAIN
    assert np.all(indices[~held_out, 0] > 0)
    if unseen == "own":
        assert np.all(indices[held_out, 0] == 0)
    else:
        # The rare categories' index, which training rows reach; never a slot of their own.
        assert len(set(indices[held_out, 0].tolist())) == 1
        assert indices[held_out, 0][0] in set(indices[~held_out, 0].tolist())


def test_numerical_statistics_are_the_training_rows_through_the_node(
    split_table, project_parameters
):
    primary, assignments = split_table
    train = training_rows(primary, assignments)

    preprocessor = fit_through_node("numerical", primary, assignments, project_parameters)

    summary = numerical.describe(preprocessor)
    median = train["price"].median()
    assert summary["imputation_values"]["price"] == pytest.approx(median)
    assert summary["mean"][0] == pytest.approx(train["price"].fillna(median).mean())
    assert summary["mean"][0] < 1e5
    assert summary["imputation_values"]["seller_rating"] == pytest.approx(
        train["seller_rating"].median()
    )


def test_words_only_in_held_out_rows_are_out_of_vocabulary_through_the_node(
    split_table, project_parameters
):
    primary, assignments = split_table
    # Every training word kept, so that any out-of-vocabulary id comes from held-out rows.
    project_parameters["text"]["min_document_frequency"] = 1

    preprocessor = fit_through_node("text", primary, assignments, project_parameters)

    assert not any(token.startswith("zeppelin") for token in preprocessor.vocabulary)
    ids = text.transform(preprocessor, primary)
    held_out = assignments["split"].to_numpy() != TRAIN
    assert np.all(ids[held_out, 0, :3] == OOV_ID)
    assert not np.any(ids[~held_out] == OOV_ID)


def test_image_preprocessor_is_configured_from_the_modalitys_parameters_through_the_node(
    split_table, small_parameters
):
    primary, assignments = split_table

    preprocessor = fit_through_node("image", primary, assignments, small_parameters)

    assert preprocessor.columns == small_parameters["image"]["columns"]
    assert (preprocessor.height, preprocessor.width) == (12, 12)


@pytest.mark.parametrize("modality", list(MODALITIES))
def test_transform_node_encodes_every_row_in_primary_table_order(
    modality, split_table, small_parameters
):
    primary, assignments = split_table
    preprocessor = fit_through_node(modality, primary, assignments, small_parameters)

    small_parameters["processing"]["chunk_rows"] = 7

    encoded = transform_through_node(modality, preprocessor, primary, small_parameters)

    # Row i of the array is row i of the primary table, encoded as the whole table is.
    module = MODALITIES[modality]
    expected = primary_features(module, preprocessor, primary)
    assert encoded.shape == expected.shape and encoded.dtype == expected.dtype
    if modality == NEIGHBOURS:
        # The kernel's float32 sums run over the rows of each batch, whose size the chunk
        # bounds: another order of summation moves the last bits, no more.
        assert module.is_active(preprocessor)
        np.testing.assert_allclose(encoded, expected, rtol=1e-5, atol=1e-6)
    else:
        np.testing.assert_array_equal(encoded, expected)


def primary_features(module: Any, preprocessor: Any, primary: pd.DataFrame) -> np.ndarray:
    """What the features pipeline should write for the whole primary table at once: the
    transform, with the fitted training rows encoded out of fold where the modality does."""
    encoded = module.transform(preprocessor, primary)
    if hasattr(module, "out_of_fold"):
        encoded = module.out_of_fold(preprocessor, primary, encoded)
    return module.model_input(encoded)


# Chunk by chunk: the same preprocessors and features whatever the chunk size.

TABULAR_AND_TEXT = ["categorical", "numerical", "text"]
CHUNK_ROWS = [1, 7, 1_000_000]


def given_targets(
    modality: str, rows: pd.DataFrame, primary: pd.DataFrame, assignments, params
) -> dict[str, Any]:
    """``targets=``, the encoded targets of ``rows``, and ``seed=`` for a modality that
    reads them; ``candidates=`` for one that may choose other modalities' columns."""
    candidates = given_candidates(modality, params)
    if not reads_targets(modality):
        return candidates
    encoder = fit_target(primary, assignments, params["table"])
    return {
        "targets": encoder.encode(rows[encoder.column]),
        "seed": params["seed"],
        **candidates,
    }


def whole_table_fit(modality: str, primary: pd.DataFrame, assignments, params) -> Any:
    """The preprocessor fitted on the training rows taken whole, as one frame (with their
    targets where the modality reads them), and the digest of those rows that the node
    records."""
    train = training_rows(primary, assignments)
    targets = given_targets(modality, train, primary, assignments, params)
    fitted = MODALITIES[modality].fit(train, params[modality], **targets)
    fitted.training_rows_digest = training_rows_digest(assignments)
    return fitted


@pytest.mark.parametrize("chunk_rows", CHUNK_ROWS)
@pytest.mark.parametrize("modality", list(MODALITIES))
def test_the_fit_on_every_training_row_is_the_whole_tables_however_chunked(
    modality, chunk_rows, split_table, small_parameters
):
    primary, assignments = split_table
    small_parameters["processing"]["chunk_rows"] = chunk_rows

    fitted = fit_through_node(modality, primary, assignments, small_parameters)

    expected = whole_table_fit(modality, primary, assignments, small_parameters)
    assert pickle.dumps(fitted) == pickle.dumps(expected)


@pytest.mark.parametrize("modality", TABULAR_AND_TEXT)
def test_the_fit_with_the_projects_parameters_is_the_whole_tables(
    modality, make_tiny_table, project_parameters
):
    primary = with_row_ids(make_tiny_table(rows=500, seed=2), None)
    assignments = split_rows(primary, project_parameters["table"], project_parameters["split"], 0)
    project_parameters["processing"]["chunk_rows"] = 37

    fitted = fit_through_node(modality, primary, assignments, project_parameters)

    expected = whole_table_fit(modality, primary, assignments, project_parameters)
    assert pickle.dumps(fitted) == pickle.dumps(expected)
    module = MODALITIES[modality]
    np.testing.assert_array_equal(
        transform_through_node(modality, fitted, primary, project_parameters),
        primary_features(module, expected, primary),
    )


@pytest.mark.parametrize("chunk_rows", CHUNK_ROWS)
@pytest.mark.parametrize("encoding", ["one_hot", "embedding", "auto"])
def test_chunked_categorical_features_are_the_whole_tables(
    encoding, chunk_rows, split_table, small_parameters
):
    primary, assignments = split_table
    small_parameters["categorical"]["encoding"] = encoding
    small_parameters["categorical"]["one_hot_max_categories"] = 3
    preprocessor = fit_through_node("categorical", primary, assignments, small_parameters)
    small_parameters["processing"]["chunk_rows"] = chunk_rows

    encoded = transform_through_node("categorical", preprocessor, primary, small_parameters)

    expected = categorical.model_input(categorical.transform(preprocessor, primary))
    assert encoded.dtype == expected.dtype
    np.testing.assert_array_equal(encoded, expected)
    np.testing.assert_array_equal(categorical.model_input(encoded), expected)


@pytest.mark.parametrize("chunk_rows", CHUNK_ROWS)
@pytest.mark.parametrize("modality", TABULAR_AND_TEXT)
def test_chunked_features_are_the_whole_tables_and_what_the_model_reads(
    modality, chunk_rows, split_table, small_parameters
):
    primary, assignments = split_table
    preprocessor = fit_through_node(modality, primary, assignments, small_parameters)
    small_parameters["processing"]["chunk_rows"] = chunk_rows
    module = MODALITIES[modality]

    encoded = transform_through_node(modality, preprocessor, primary, small_parameters)

    expected = primary_features(module, preprocessor, primary)
    assert encoded.dtype == expected.dtype
    np.testing.assert_array_equal(encoded, expected)
    np.testing.assert_array_equal(module.model_input(encoded), expected)


def test_features_stream_from_a_parquet_table_into_an_npy_file(
    split_table, small_parameters, tmp_path
):
    primary, assignments = split_table
    primary.to_parquet(tmp_path / "primary.parquet")
    preprocessor = fit_through_node("numerical", primary, assignments, small_parameters)
    chunks = tables.from_parquet(tmp_path / "primary.parquet", chunk_rows=9)
    dataset = NumpyDataset(filepath=str(tmp_path / "numerical_features.npy"))

    dataset.save(
        run_node(
            "numerical.transform",
            {
                "numerical.preprocessor": preprocessor,
                "primary_table": chunks,
                "params:processing": small_parameters["processing"],
            },
        )
    )

    loaded = dataset.load()
    assert isinstance(loaded, np.memmap)
    expected = numerical.model_input(numerical.transform(preprocessor, primary))
    np.testing.assert_array_equal(numerical.model_input(loaded), expected)


@pytest.mark.parametrize("modality", list(MODALITIES))
def test_held_out_rows_never_change_the_fitted_preprocessor_when_chunked(
    modality, split_table, small_parameters
):
    primary, assignments = split_table
    small_parameters["processing"]["chunk_rows"] = 7
    before = fit_through_node(modality, primary, assignments, small_parameters)
    held_out = assignments["split"].to_numpy() != TRAIN
    changed = primary.copy()
    donors = primary[~held_out].sample(int(held_out.sum()), replace=True, random_state=0)
    for column in primary.columns.drop("row_id"):
        changed.loc[held_out, column] = donors[column].to_numpy()

    after = fit_through_node(modality, changed, assignments, small_parameters)

    assert pickle.dumps(after) == pickle.dumps(before)


def test_target_bin_edges_read_the_training_rows_targets_only(split_table, small_parameters):
    primary, assignments = split_table
    small_parameters["numerical"] |= {"bin_edges": "target", "bins": 4, "bin_min_rows": 2}
    small_parameters["processing"]["chunk_rows"] = 7
    target = small_parameters["table"]["target"]
    held_out = assignments["split"].to_numpy() != TRAIN
    before = fit_through_node("numerical", primary, assignments, small_parameters)

    reversed_held_out = primary.copy()
    reversed_held_out.loc[held_out, target] = primary.loc[held_out, target].to_numpy()[::-1]
    after = fit_through_node("numerical", reversed_held_out, assignments, small_parameters)
    reversed_training = primary.copy()
    reversed_training.loc[~held_out, target] = primary.loc[~held_out, target].to_numpy()[::-1]
    moved = fit_through_node("numerical", reversed_training, assignments, small_parameters)

    assert pickle.dumps(after) == pickle.dumps(before)
    assert moved.bin_edges != before.bin_edges
    expected = whole_table_fit("numerical", primary, assignments, small_parameters)
    assert pickle.dumps(before) == pickle.dumps(expected)


# More training rows than processing.fit_rows: a seeded sample of them.


@pytest.fixture
def sampled_parameters(small_parameters) -> dict[str, Any]:
    """Parameters fitting on at most 10 training rows."""
    small_parameters["processing"]["fit_rows"] = 10
    return small_parameters


@pytest.mark.parametrize("chunk_rows", CHUNK_ROWS)
def test_the_sample_is_the_same_however_chunked(chunk_rows, split_table, sampled_parameters):
    primary, assignments = split_table
    sampled_parameters["processing"]["chunk_rows"] = chunk_rows
    columns = sampled_parameters["numerical"]["columns"]

    sample, count = training_sample(
        primary, assignments, columns, sampled_parameters["processing"], seed=3
    )

    train = training_rows(primary, assignments)
    expected = tables.seeded_sample([train], "row_id", size=10, seed=3)
    assert count == len(train) > len(sample) == 10
    assert sample.index.tolist() == expected.index.tolist()
    assert set(sample["row_id"]) <= set(train["row_id"])
    pd.testing.assert_frame_equal(sample, expected[["row_id", *columns]])


def test_another_seed_draws_another_sample(split_table, sampled_parameters):
    primary, assignments = split_table
    processing = sampled_parameters["processing"]

    first, _ = training_sample(primary, assignments, [], processing, seed=3)
    again, _ = training_sample(primary, assignments, [], processing, seed=3)
    other, _ = training_sample(primary, assignments, [], processing, seed=4)

    assert first["row_id"].tolist() == again["row_id"].tolist()
    assert first["row_id"].tolist() != other["row_id"].tolist()


@pytest.mark.parametrize("modality", list(MODALITIES))
def test_a_sampled_fit_is_the_same_however_chunked_and_fitted_on_the_sample(
    modality, split_table, sampled_parameters, caplog
):
    primary, assignments = split_table
    processing = sampled_parameters["processing"]
    fitted = {}
    for chunk_rows in CHUNK_ROWS:
        processing["chunk_rows"] = chunk_rows
        with caplog.at_level(logging.INFO, logger="multimodal_keras.pipelines.features.nodes"):
            fitted[chunk_rows] = fit_through_node(
                modality, primary, assignments, sampled_parameters
            )

    columns = list(
        candidate_columns(
            modality, sampled_parameters[modality], column_sources(modality, sampled_parameters)
        )
    )
    if reads_targets(modality):
        columns = [*columns, sampled_parameters["table"]["target"]]
    sample, count = training_sample(
        primary, assignments, columns, processing, sampled_parameters["seed"]
    )
    targets = given_targets(modality, sample, primary, assignments, sampled_parameters)
    expected = MODALITIES[modality].fit(
        sample, sampled_parameters[modality], training_rows=count, **targets
    )
    # The digest names the split's training rows, all of them, not the sample.
    expected.training_rows_digest = training_rows_digest(assignments)
    assert {pickle.dumps(value) for value in fitted.values()} == {pickle.dumps(expected)}
    assert f"a seeded sample of 10 of the {count} training rows" in caplog.text


def test_the_numerical_preprocessor_counts_every_training_row_not_the_sample(
    split_table, sampled_parameters
):
    primary, assignments = split_table

    preprocessor = fit_through_node("numerical", primary, assignments, sampled_parameters)

    assert preprocessor.training_rows == len(training_rows(primary, assignments)) > 10


def test_a_split_of_other_rows_is_refused_with_what_to_do(split_table, small_parameters):
    primary, assignments = split_table

    with pytest.raises(MultimodalKerasError, match="rerun the split"):
        fit_through_node("numerical", primary, assignments.iloc[:-1], small_parameters)
