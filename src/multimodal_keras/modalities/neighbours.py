"""The neighbours modality: what the training rows that share a row's names scored.

Where a table names things that recur across rows (a film's director, writers and cast; a
product; a user), the rows that share those names say much about a row's target, and a
network that memorises each name's rows within two passes does not generalise from them as
well as gradient boosting does. This modality reads such columns as whole names (a cell
may list several, split by ``separator``) and gives the model, per row:

- kernel regression over the fitted training rows (Nadaraya-Watson): their targets weighted
  by the cosine similarity of the rows' TF-IDF name bags raised to ``power``, with a prior
  of weight ``prior`` at the training mean, and the log of the weights' sum; retrieval of
  the training rows' targets as TabR (Gorishniy et al., ICLR 2024) adds it to a tabular
  network, with a fixed rather than learnt neighbourhood;
- per column, the log of how many training rows hold each of its names, largest and mean.

A fitted training row is read leave-one-out: its own row is left out of its neighbours and
of its counts, so its features are as far from its own target as a test row's. The rows,
their bags and targets are constant weights of the model, which computes the features from
the token ids and the row's position among them (0 for every other row), so the serving
model computes the same features from raw columns. ``power`` and ``prior`` are chosen
among ``powers`` and ``priors`` by the training rows' leave-one-out loss. Under
``columns: auto`` the fit chooses its columns among the categorical and text columns
(``choose_columns``), and the modality is off on tables whose names do not recur by the
hundreds.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import keras
import numpy as np
import pandas as pd
import tensorflow as tf
from scipy import sparse

from multimodal_keras import options
from multimodal_keras.modalities import base
from multimodal_keras.modalities.base import (
    AUTO_COLUMNS,
    GRADIENT_BOOSTING,
    LINEAR,
    ROW_ID,
    STRING,
    BaselineBlock,
    accept_every_row,
    configured_columns,
    raw_inputs,
    warn_unused_column,
)
from multimodal_keras.modalities.names import CATEGORICAL, TEXT
from multimodal_keras.splitting import FittedOnTrainingRows

logger = logging.getLogger(__name__)


class AutoOptions(options.Options):
    """``neighbours.auto``: which columns ``columns: auto`` reads."""

    min_names: options.Positive
    max_words: options.Positive
    min_share: options.Fraction


class Options(options.Options):
    """``neighbours``: the columns whose names recur, and the kernel's choices."""

    columns: list[str] | options.AUTO
    auto: AutoOptions
    separator: str | None
    max_tokens: options.Positive
    max_names: options.Positive
    max_rows: options.Positive
    powers: list[options.PositiveFloat]
    priors: list[options.PositiveFloat]
    block_rows: options.Positive
    batch_size: options.Positive


class TowerOptions(options.Options):
    """``model.towers.neighbours``."""

    units: options.Units
    dropout: options.Dropout


RAW_DTYPE = STRING
# The fit reads the training rows' encoded targets: they are the kernel's values.
READS_TARGETS = True
# Its columns are read by another modality too (categories, name lists as text): validation
# lets them be listed twice, when both read strings.
READS_OTHER_COLUMNS = True
BASELINE_KINDS = frozenset({GRADIENT_BOOSTING, LINEAR})
# ``columns: auto`` chooses among these modalities' columns (``choose_columns``).
COLUMNS_FROM = (CATEGORICAL, TEXT)

PADDING_ID, UNKNOWN_ID = 0, 1
FIRST_TOKEN_ID = 2
# Between a column's position and a name in a token: no cell holds it.
TOKEN_JOIN = "\x1f"


@dataclass
class NeighboursPreprocessor(FittedOnTrainingRows):
    """The names' vocabulary and the fitted training rows the kernel reads."""

    columns: list[str]
    separator: str | None
    max_names: int
    batch_size: int = 256
    vocabulary: list[str] = field(default_factory=list)  # tokens from FIRST_TOKEN_ID on
    idf: np.ndarray | None = None  # (vocabulary size,), 0 for padding and unknown
    column_of_token: np.ndarray | None = None  # (vocabulary size,), -1 for the first two
    document_frequency: np.ndarray | None = None  # training rows holding each token
    bags: sparse.csr_matrix | None = None  # (rows, vocabulary), L2-normalised TF-IDF
    values: np.ndarray | None = None  # (rows, outputs): the rows' encoded targets
    row_ids: np.ndarray | None = None
    power: float = 2.0
    prior: float = 0.1
    prior_value: np.ndarray | None = None  # (outputs,): the training rows' mean value
    mean: np.ndarray | None = None  # (features,), of the training rows' features
    scale: np.ndarray | None = None
    # (rows, features): the fitted rows' own features, each row left out of its own,
    # standardised (what the model input holds for them; ``out_of_fold``).
    fitted_features: np.ndarray | None = None
    losses: dict[str, float] = field(default_factory=dict)
    # ``columns: auto``: per candidate column, its names held by two training rows or more,
    # the share of rows holding one, its median name's words, whether it lists names
    # (a text column: whether it repeats a category) and whether it was chosen.
    candidates: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def vocabulary_size(self) -> int:
        return FIRST_TOKEN_ID + len(self.vocabulary)

    @property
    def outputs(self) -> int:
        return 0 if self.values is None else int(self.values.shape[1])

    @property
    def features(self) -> int:
        """Kernel values and mass, then the largest and mean count per column."""
        return self.outputs + 1 + 2 * len(self.columns)

    def position_of(self, row_ids: pd.Series) -> np.ndarray:
        """Each row's position among the fitted rows plus one, 0 for any other row."""
        found = pd.Index(self.row_ids).get_indexer(row_ids.to_numpy())
        return (found + 1).astype(np.int32)


def cell_strings(rows: pd.DataFrame, column: str) -> np.ndarray:
    """A column's cells as strings, a missing cell as the empty string (no name)."""
    return rows[column].astype("string").fillna("").to_numpy(dtype=object)


@keras.saving.register_keras_serializable(package="multimodal_keras")
class NameTokens(keras.layers.Layer):
    """Raw string columns to each row's name tokens, ``column position + TOKEN_JOIN + name``.

    A cell is split by ``separator`` (whole when None); names are stripped of surrounding
    whitespace and empty ones dropped. With ``vocabulary`` given the tokens are ids (unknown
    names ``UNKNOWN_ID``), ``max_names`` per row, padded with ``PADDING_ID``; without it, a
    ragged tensor of token strings (the fit counts them). The fit, ``transform`` and the
    serving model all tokenize with this layer, so they read a cell alike.
    """

    def __init__(
        self,
        columns: int,
        separator: str | None,
        vocabulary: list[str] | None = None,
        max_names: int = 1,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.columns, self.separator = int(columns), separator
        self.vocabulary = None if vocabulary is None else [str(token) for token in vocabulary]
        self.max_names = int(max_names)
        self.table = (
            None
            if self.vocabulary is None
            else tf.lookup.StaticHashTable(
                tf.lookup.KeyValueTensorInitializer(
                    tf.constant(self.vocabulary, dtype=tf.string),
                    tf.range(FIRST_TOKEN_ID, FIRST_TOKEN_ID + len(self.vocabulary), dtype=tf.int64),
                ),
                default_value=UNKNOWN_ID,
            )
        )

    def tokens(self, columns: list[tf.Tensor]) -> tf.RaggedTensor:
        parts = []
        for position, raw in enumerate(columns):
            cells = tf.reshape(tf.cast(raw, tf.string), [-1])
            names = (
                tf.strings.split(cells, sep=self.separator)
                if self.separator
                else tf.RaggedTensor.from_tensor(cells[:, None])
            )
            names = tf.strings.strip(names)
            names = tf.ragged.boolean_mask(names, tf.strings.length(names) > 0)
            parts.append(tf.strings.join([f"{position}{TOKEN_JOIN}", names]))
        return tf.concat(parts, axis=1)

    def call(self, columns: list[tf.Tensor]) -> tf.Tensor:
        tokens = self.tokens(columns)
        if self.table is None:
            return tokens
        ids = tf.ragged.map_flat_values(self.table.lookup, tokens)
        ids = ids.to_tensor(default_value=PADDING_ID, shape=[None, self.max_names])
        return tf.cast(ids, tf.int32)

    def compute_output_spec(self, columns: list[keras.KerasTensor]) -> keras.KerasTensor:
        return keras.KerasTensor((columns[0].shape[0], self.max_names), dtype="int32")

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "columns": self.columns,
            "separator": self.separator,
            "vocabulary": self.vocabulary,
            "max_names": self.max_names,
        }


def token_strings(preprocessor: NeighboursPreprocessor, rows: pd.DataFrame) -> list[list[str]]:
    """Each row's name tokens, as the fit counts them."""
    layer = NameTokens(len(preprocessor.columns), preprocessor.separator)
    cells = [tf.constant(cell_strings(rows, column)) for column in preprocessor.columns]
    return [[token.decode() for token in row] for row in layer(cells).to_list()]


def token_ids(
    preprocessor: NeighboursPreprocessor, rows: pd.DataFrame, layer: NameTokens | None = None
) -> np.ndarray:
    """(rows, max_names) int32 token ids (``layer``: a ``NameTokens`` of the vocabulary
    already made, whose lookup table is then not built again)."""
    if not len(rows):
        return np.zeros((0, preprocessor.max_names), dtype=np.int32)
    layer = layer or NameTokens(
        len(preprocessor.columns),
        preprocessor.separator,
        preprocessor.vocabulary,
        preprocessor.max_names,
    )
    cells = [tf.constant(cell_strings(rows, column)) for column in preprocessor.columns]
    return layer(cells).numpy()


def bag_matrix(ids: np.ndarray, preprocessor: NeighboursPreprocessor) -> sparse.csr_matrix:
    """Token ids to sublinear TF-IDF bags, L2-normalised (padding and unknown weigh 0)."""
    rows = np.repeat(np.arange(len(ids)), ids.shape[1])
    shape = (len(ids), preprocessor.vocabulary_size)
    counts = sparse.csr_matrix((np.ones(ids.size), (rows, ids.ravel())), shape=shape)
    counts.sum_duplicates()
    counts.data = (1.0 + np.log(counts.data)) * preprocessor.idf[counts.indices]
    counts.eliminate_zeros()
    norms = np.sqrt(np.asarray(counts.multiply(counts).sum(axis=1))).ravel()
    scaled = sparse.diags(np.where(norms > 0, 1.0 / np.maximum(norms, 1e-12), 0.0)) @ counts
    scaled = scaled.tocsr()
    scaled.sort_indices()
    return scaled.astype(np.float32)


def target_values(targets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The kernel's values of encoded targets (the number; one 0/1 column for two classes,
    one per class for more) and which rows have a known target."""
    targets = np.asarray(targets)
    if np.issubdtype(targets.dtype, np.floating):
        known = np.isfinite(targets)
        return targets[:, None].astype(np.float64), known
    known = targets >= 0
    classes = max(int(targets.max(initial=0)) + 1, 2)
    one_hot = np.eye(classes)[np.where(known, targets, 0)]
    return (one_hot[:, 1:] if classes == 2 else one_hot), known


def leave_one_out(
    bags: sparse.csr_matrix, values: np.ndarray, powers: list[float], block_rows: int
) -> dict[float, tuple[np.ndarray, np.ndarray]]:
    """Per power, every fitted row's weighted sum of the other rows' values and the sum of
    their weights (its own row left out), ``block_rows`` rows at a time."""
    found = {power: (np.zeros_like(values), np.zeros(len(values))) for power in powers}
    transposed = bags.T.tocsr()
    for start in range(0, bags.shape[0], block_rows):
        stop = min(start + block_rows, bags.shape[0])
        similarity = np.clip((bags[start:stop] @ transposed).toarray(), 0.0, None)
        similarity[np.arange(stop - start), np.arange(start, stop)] = 0.0
        for power in powers:
            weights = similarity**power
            found[power][0][start:stop] = weights @ values
            found[power][1][start:stop] = weights.sum(axis=1)
    return found


def kernel_loss(values: np.ndarray, estimate: np.ndarray, regression: bool) -> float:
    """Squared error of numbers, log loss of class probabilities."""
    if regression:
        return float(np.mean((values - estimate) ** 2))
    probabilities = np.clip(estimate, 1e-6, 1 - 1e-6)
    if values.shape[1] == 1:
        positive = values[:, 0]
        return float(
            -np.mean(
                positive * np.log(probabilities[:, 0])
                + (1 - positive) * np.log(1 - probabilities[:, 0])
            )
        )
    return float(-np.mean(np.sum(values * np.log(probabilities), axis=1)))


def held_tokens(tokens: list[list[str]]) -> pd.Series:
    """Every row's tokens, each once per row: their counts are how many rows hold each."""
    return pd.Series([token for row in tokens for token in set(row)], dtype=object)


def name_statistics(
    preprocessor: NeighboursPreprocessor, rows: pd.DataFrame
) -> dict[str, dict[str, Any]]:
    """Per column of ``preprocessor``: how many of its names two rows or more hold, the
    share of rows holding one of those, and the median number of words of the names the
    rows hold (each row's name counted once)."""
    tokens = token_strings(preprocessor, rows)
    held = held_tokens(tokens)
    frequency = held.value_counts()
    recurring = set(frequency.index[frequency >= 2])
    statistics = {}
    for position, column in enumerate(preprocessor.columns):
        prefix = f"{position}{TOKEN_JOIN}"
        mine = held[held.str.startswith(prefix)]
        names = mine.str.slice(len(prefix))
        sharing = sum(any(t in recurring for t in row if t.startswith(prefix)) for row in tokens)
        statistics[column] = {
            "recurring_names": int(mine.drop_duplicates().isin(recurring).sum()),
            "shared_rows": round(sharing / max(len(tokens), 1), 4),
            "median_words": float(names.str.split().str.len().median()) if len(names) else 0.0,
        }
    return statistics


def repeats_a_category(rows: pd.DataFrame, column: str, categories: list[str]) -> bool:
    """Whether ``column``'s cells are a function of one of the ``categories`` columns over
    ``rows``: every category two rows or more hold holds one cell of it (a title beside
    the film's id). A category of one row says nothing either way."""
    cells = rows[column].astype("string").fillna("")
    for category in categories:
        if category == column:
            continue
        groups = cells.groupby(rows[category].astype("string").fillna(""), sort=False)
        shared = groups.size() >= 2
        if shared.any() and groups.nunique()[shared].max() <= 1:
            return True
    return False


def choose_columns(
    preprocessor: NeighboursPreprocessor,
    rows: pd.DataFrame,
    candidates: Mapping[str, str],
    auto: Mapping[str, Any],
) -> list[str]:
    """``columns: auto``: the candidate columns (column: the modality that reads it) the
    kernel reads, none unless one of them holds names that recur by the hundreds.

    Every category is a name. A text column is a list of names when its median name has at
    most ``auto.max_words`` words (a writer, a cast member, a genre: not a sentence) and at
    least ``auto.min_share`` of the rows hold a name another row holds (a title names one
    film, and two films of one title are not one film), unless each category of a
    categorical candidate holds one cell of it (a film's title beside its id: read twice,
    one thing would outweigh the others in the rows' similarity). The kernel reads them
    all when one holds at least ``auto.min_names`` names that two training rows or more
    hold: there the network memorises names faster than it learns from the rows that share
    them. Recorded in ``preprocessor.candidates``."""
    statistics = name_statistics(preprocessor, rows)
    categories = [column for column in statistics if candidates[column] != TEXT]
    for column, entry in statistics.items():
        if candidates[column] != TEXT:
            entry["names"] = True
            continue
        entry["repeats_a_category"] = repeats_a_category(rows, column, categories)
        entry["names"] = (
            entry["median_words"] <= float(auto["max_words"])
            and entry["shared_rows"] >= float(auto["min_share"])
            and not entry["repeats_a_category"]
        )
    names = [column for column, entry in statistics.items() if entry["names"]]
    recurring = max((statistics[column]["recurring_names"] for column in names), default=0)
    chosen = names if recurring >= int(auto["min_names"]) else []
    for column, entry in statistics.items():
        entry["chosen"] = column in chosen
    preprocessor.candidates = statistics
    logger.info(
        "neighbours.columns is auto: %s (names two training rows or more hold: at most %d "
        "in a column of names, %d needed; %s).",
        f"reads {chosen}" if chosen else "off",
        recurring,
        int(auto["min_names"]),
        "; ".join(
            f"{column}: {entry['recurring_names']} names, {entry['shared_rows']:.0%} of rows "
            f"share one, {entry['median_words']:g} words"
            for column, entry in statistics.items()
        ),
    )
    return chosen


def kernel_rows(
    rows: pd.DataFrame, values: np.ndarray, limit: int, seed: int
) -> tuple[pd.DataFrame, np.ndarray]:
    """The training rows the kernel holds: all of them up to ``limit``, else a sample
    seeded by ``seed``, in their order. The fit compares every pair of them, so the sample
    bounds its time and memory; the other training rows read its kernel as new rows do."""
    if len(rows) <= limit:
        return rows, values
    keep = np.sort(np.random.default_rng(seed).choice(len(rows), limit, replace=False))
    return rows.iloc[keep], values[keep]


def fit(
    train_rows: pd.DataFrame,
    options: Mapping[str, Any],
    training_rows: int | None = None,
    targets: np.ndarray | None = None,
    seed: int = 0,
    candidates: Mapping[str, str] | None = None,
) -> NeighboursPreprocessor:
    """Learn the names of the training rows, their bags and targets, and the kernel's power
    and prior (by the training rows' leave-one-out loss). Under ``columns: auto`` the
    columns are chosen among ``candidates`` (the ``COLUMNS_FROM`` modalities' columns) by
    ``choose_columns``."""
    automatic = options.get("columns") == AUTO_COLUMNS
    preprocessor = NeighboursPreprocessor(
        columns=list(candidates or []) if automatic else configured_columns(options),
        separator=options.get("separator") or None,
        max_names=int(options["max_names"]),
        batch_size=int(options["batch_size"]),
    )
    if not preprocessor.columns or targets is None:
        preprocessor.columns = [] if automatic else preprocessor.columns
        return preprocessor
    values, known = target_values(targets)
    train_rows, values = train_rows[known], values[known]
    train_rows, values = kernel_rows(train_rows, values, int(options["max_rows"]), seed)
    if automatic:
        preprocessor.columns = choose_columns(preprocessor, train_rows, candidates, options["auto"])
        if not preprocessor.columns:
            return preprocessor
    columns = preprocessor.columns
    tokens = token_strings(preprocessor, train_rows)
    frequency = held_tokens(tokens).value_counts()
    if frequency.empty:
        for column in columns:
            warn_unused_column("neighbours", column)
        preprocessor.columns = []
        return preprocessor
    frequency = frequency.sort_index(kind="stable").sort_values(ascending=False, kind="stable")
    kept = frequency.iloc[: int(options["max_tokens"])]
    preprocessor.vocabulary = [str(token) for token in kept.index]
    document_frequency = np.concatenate([[0, 0], kept.to_numpy()]).astype(np.float32)
    preprocessor.document_frequency = document_frequency
    rows = len(train_rows)
    idf = np.log((1.0 + rows) / (1.0 + document_frequency)) + 1.0
    idf[:FIRST_TOKEN_ID] = 0.0
    preprocessor.idf = idf.astype(np.float32)
    preprocessor.column_of_token = np.array(
        [-1, -1, *(int(token.split(TOKEN_JOIN, 1)[0]) for token in preprocessor.vocabulary)],
        dtype=np.int32,
    )
    longest = max((len(row) for row in tokens), default=1)
    preprocessor.max_names = max(1, min(preprocessor.max_names, longest))
    for position, column in enumerate(columns):
        if not (preprocessor.column_of_token == position).any():
            warn_unused_column("neighbours", column)
    ids = token_ids(preprocessor, train_rows)
    preprocessor.bags = bag_matrix(ids, preprocessor)
    preprocessor.values = values.astype(np.float32)
    preprocessor.row_ids = train_rows[ROW_ID].to_numpy()
    regression = np.issubdtype(np.asarray(targets).dtype, np.floating)
    prior_value = values.mean(axis=0)
    # A fitted row's prior is the other rows' mean: its own target stays out of it too.
    own_prior = leave_one_out_mean(values)
    powers = [float(power) for power in options["powers"]]
    sums = leave_one_out(preprocessor.bags, values, powers, int(options["block_rows"]))
    choose_kernel(preprocessor, sums, values, own_prior, options["priors"], regression)
    preprocessor.prior_value = prior_value.astype(np.float32)
    features = leave_one_out_features(preprocessor, ids, sums[preprocessor.power], own_prior)
    scale = features.std(axis=0)
    preprocessor.mean = features.mean(axis=0).astype(np.float32)
    preprocessor.scale = np.where(scale > 0, scale, 1.0).astype(np.float32)
    standard = (features - preprocessor.mean) / preprocessor.scale
    preprocessor.fitted_features = standard.astype(np.float32)
    return preprocessor


def choose_kernel(
    preprocessor: NeighboursPreprocessor,
    sums: Mapping[float, tuple[np.ndarray, np.ndarray]],
    values: np.ndarray,
    own_prior: np.ndarray,
    priors: list[float],
    regression: bool,
) -> None:
    """Set the power (of ``sums``' keys) and prior (of ``priors``) whose leave-one-out
    estimates of the fitted rows' ``values`` lose least, recording every pair's loss."""
    best = None
    for power, (weighted, total) in sums.items():
        for prior in map(float, priors):
            estimate = (weighted + prior * own_prior) / (total + prior)[:, None]
            loss = kernel_loss(values, estimate, regression)
            preprocessor.losses[f"power {power:g}, prior {prior:g}"] = loss
            if best is None or loss < best[0]:
                best = (loss, power, prior)
    _, preprocessor.power, preprocessor.prior = best


def leave_one_out_mean(values: np.ndarray) -> np.ndarray:
    """Each row's mean of the other rows' values (its own value when it is the only row)."""
    rows = len(values)
    if rows < 2:
        return values.astype(np.float64)
    return (values.sum(axis=0) - values) / (rows - 1)


def leave_one_out_features(
    preprocessor: NeighboursPreprocessor,
    ids: np.ndarray,
    sums: tuple[np.ndarray, np.ndarray],
    own_prior: np.ndarray,
) -> np.ndarray:
    """The fitted rows' features, each row left out of its own (``own_prior``: the other
    rows' mean), before standardising."""
    weighted, total = sums
    prior = preprocessor.prior
    estimate = (weighted + prior * own_prior) / (total + prior)[:, None]
    counts = name_counts(preprocessor, ids, own=np.ones(len(ids), dtype=bool))
    return np.concatenate([estimate, np.log1p(total)[:, None], counts], axis=1)


def name_counts(
    preprocessor: NeighboursPreprocessor, ids: np.ndarray, own: np.ndarray
) -> np.ndarray:
    """Per column, log1p of the largest and of the mean count of training rows holding each
    of a row's names (``own``: the row is a fitted row, not counted in its own names)."""
    counts = preprocessor.document_frequency[ids] - own[:, None]
    column = preprocessor.column_of_token[ids]
    found = []
    for position in range(len(preprocessor.columns)):
        held = (column == position) & (ids >= FIRST_TOKEN_ID)
        named = np.where(held, np.log1p(np.maximum(counts, 0.0)), 0.0)
        number = held.sum(axis=1)
        # Counts are 0 or more, so a row with no name in the column reads 0 for both.
        found += [named.max(axis=1), named.sum(axis=1) / np.maximum(number, 1)]
    return np.stack(found, axis=1) if found else np.zeros((len(ids), 0))


def transform(preprocessor: NeighboursPreprocessor, rows: pd.DataFrame) -> np.ndarray:
    """(rows, features) float32: each row's standardised features from every fitted row,
    computed by the serving model's own layers, ``batch_size`` rows at a time."""
    features = np.zeros((len(rows), *encoded_shape(preprocessor)[0]), dtype=np.float32)
    if not is_active(preprocessor) or not len(rows):
        return features
    layer = features_layer("neighbour_features", preprocessor)
    compute = tf.function(layer, reduce_retracing=True)
    tokens = NameTokens(
        len(preprocessor.columns),
        preprocessor.separator,
        preprocessor.vocabulary,
        preprocessor.max_names,
    )
    step = int(preprocessor.batch_size)
    for start in range(0, len(rows), step):
        ids = token_ids(preprocessor, rows.iloc[start : start + step], tokens)
        positions = np.zeros((len(ids), 1), dtype=np.int32)
        features[start : start + len(ids)] = compute(np.hstack([ids, positions])).numpy()
    return features


def out_of_fold(
    preprocessor: NeighboursPreprocessor, rows: pd.DataFrame, features: np.ndarray
) -> np.ndarray:
    """``transform``'s features of primary-table rows with each fitted row's replaced by
    its leave-one-out features (the fit's, which the model's layer gives for its position)."""
    if is_active(preprocessor) and len(rows):
        position = preprocessor.position_of(rows[ROW_ID])
        fitted = position > 0
        features[fitted] = preprocessor.fitted_features[position[fitted] - 1]
    return features


def model_input(encoded: np.ndarray) -> np.ndarray:
    """The features as float32."""
    return np.asarray(encoded, dtype=np.float32)


def encoded_shape(preprocessor: NeighboursPreprocessor) -> tuple[tuple[int, ...], np.dtype]:
    """The standardised features per row; nothing when off."""
    width = preprocessor.features if is_active(preprocessor) else 0
    return (width,), np.dtype(np.float32)


@keras.saving.register_keras_serializable(package="multimodal_keras")
class NeighbourFeatures(keras.layers.Layer):
    """(rows, max_names + 1) token ids and position to the standardised features.

    The fitted rows' bags, values and the vocabulary's statistics are weights the optimiser
    never changes, saved with the model's weights; the arrays are given when the model is
    built and loaded from the weights when it is read back. Each row's similarity to every
    fitted row is one sparse product with its bag.
    """

    def __init__(
        self,
        rows: int,
        vocabulary_size: int,
        nonzero: int,
        outputs: int,
        columns: int,
        max_names: int,
        power: float,
        prior: float,
        preprocessor: NeighboursPreprocessor | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.rows, self.vocabulary_size, self.nonzero = (
            int(rows),
            int(vocabulary_size),
            int(nonzero),
        )
        self.outputs, self.columns, self.max_names = int(outputs), int(columns), int(max_names)
        self.power, self.prior = float(power), float(prior)
        self._initial = preprocessor

    def initial_values(self) -> dict[str, np.ndarray | None]:
        fitted = self._initial
        if fitted is None:
            return {}
        bags = fitted.bags.tocoo()
        return {
            # Indices as floats: exact below 2**24, and weights of one dtype save alike.
            "bag_rows": bags.row.astype(np.float32),
            "bag_tokens": bags.col.astype(np.float32),
            "bag_values": bags.data.astype(np.float32),
            "values": fitted.values,
            "idf": fitted.idf,
            "document_frequency": fitted.document_frequency,
            "column_of_token": fitted.column_of_token.astype(np.float32),
            "prior_value": fitted.prior_value,
            "mean": fitted.mean,
            "scale": fitted.scale,
        }

    def build(self, input_shape: Any) -> None:
        shapes = {
            "bag_rows": (self.nonzero,),
            "bag_tokens": (self.nonzero,),
            "bag_values": (self.nonzero,),
            "values": (self.rows, self.outputs),
            "idf": (self.vocabulary_size,),
            "document_frequency": (self.vocabulary_size,),
            "column_of_token": (self.vocabulary_size,),
            "prior_value": (self.outputs,),
            "mean": (self.outputs + 1 + 2 * self.columns,),
            "scale": (self.outputs + 1 + 2 * self.columns,),
        }
        base.add_constant_weights(self, shapes, self.initial_values())

    def call(self, inputs: tf.Tensor) -> tf.Tensor:
        inputs = tf.cast(inputs, tf.int32)
        ids, position = inputs[:, : self.max_names], inputs[:, self.max_names]
        fitted_row = tf.cast(position > 0, tf.float32)
        # The row's bag: sublinear TF-IDF over its name ids, L2-normalised.
        counts = tf.cast(
            tf.math.bincount(
                ids, minlength=self.vocabulary_size, maxlength=self.vocabulary_size, axis=-1
            ),
            tf.float32,
        )
        bag = tf.where(counts > 0, 1.0 + tf.math.log(tf.maximum(counts, 1.0)), 0.0) * self.idf
        bag = tf.math.divide_no_nan(bag, tf.norm(bag, axis=1, keepdims=True))
        known = tf.sparse.SparseTensor(
            tf.stack(
                [tf.cast(self.bag_rows, tf.int64), tf.cast(self.bag_tokens, tf.int64)], axis=1
            ),
            self.bag_values,
            (self.rows, self.vocabulary_size),
        )
        similarity = tf.transpose(tf.sparse.sparse_dense_matmul(known, bag, adjoint_b=True))
        # A fitted row is not its own neighbour.
        own = tf.one_hot(position - 1, self.rows, dtype=similarity.dtype)
        weights = tf.pow(tf.nn.relu(similarity) * (1.0 - own), self.power)
        total = tf.reduce_sum(weights, axis=1)
        # A fitted row's prior is the other rows' mean, without its own value.
        own_value = tf.gather(self.values, tf.maximum(position - 1, 0)) * fitted_row[:, None]
        rows = float(self.rows)
        prior_value = (self.prior_value * rows - own_value) / (rows - fitted_row[:, None])
        estimate = (tf.matmul(weights, self.values) + self.prior * prior_value) / (
            total + self.prior
        )[:, None]
        parts = [estimate, tf.math.log1p(total)[:, None]]
        held_counts = tf.gather(self.document_frequency, ids) - fitted_row[:, None]
        named = tf.math.log1p(tf.nn.relu(held_counts))
        column = tf.gather(self.column_of_token, ids)
        for index in range(self.columns):
            held = tf.logical_and(tf.equal(column, float(index)), ids >= FIRST_TOKEN_ID)
            number = tf.reduce_sum(tf.cast(held, tf.float32), axis=1)
            largest = tf.reduce_max(tf.where(held, named, 0.0), axis=1)
            total_named = tf.reduce_sum(tf.where(held, named, 0.0), axis=1)
            parts += [largest[:, None], (total_named / tf.maximum(number, 1.0))[:, None]]
        features = tf.concat(parts, axis=1)
        return (features - self.mean) / self.scale

    def compute_output_spec(self, inputs: keras.KerasTensor) -> keras.KerasTensor:
        width = self.outputs + 1 + 2 * self.columns
        return keras.KerasTensor((inputs.shape[0], width), "float32")

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "rows": self.rows,
            "vocabulary_size": self.vocabulary_size,
            "nonzero": self.nonzero,
            "outputs": self.outputs,
            "columns": self.columns,
            "max_names": self.max_names,
            "power": self.power,
            "prior": self.prior,
        }


def features_layer(name: str, preprocessor: NeighboursPreprocessor) -> NeighbourFeatures:
    return NeighbourFeatures(
        rows=preprocessor.bags.shape[0],
        vocabulary_size=preprocessor.vocabulary_size,
        nonzero=preprocessor.bags.nnz,
        outputs=preprocessor.outputs,
        columns=len(preprocessor.columns),
        max_names=preprocessor.max_names,
        power=preprocessor.power,
        prior=preprocessor.prior,
        preprocessor=preprocessor,
        name=name,
    )


def build_tower(
    name: str, preprocessor: NeighboursPreprocessor, tower: Mapping[str, Any]
) -> tuple[keras.KerasTensor, keras.KerasTensor]:
    """The standardised features, through ``units`` dense layers when any, beside the
    features themselves."""
    shape, _ = encoded_shape(preprocessor)
    model_input = keras.Input(shape=shape, name=name, dtype="float32")
    units = list(tower["units"])
    if not units:
        return model_input, model_input
    dense = base.dense_block(model_input, units, float(tower["dropout"]), name)
    return model_input, keras.layers.Concatenate(name=f"{name}_with_features")([dense, model_input])


def wide_features(
    name: str,
    inputs: keras.KerasTensor,
    preprocessor: NeighboursPreprocessor,
    output_units: int,
    tower: Mapping[str, Any],
) -> keras.KerasTensor:
    """What the linear (wide) path reads: the standardised features."""
    return inputs


def build_serving_input(
    name: str, preprocessor: NeighboursPreprocessor
) -> tuple[dict[str, keras.KerasTensor], keras.KerasTensor]:
    """One string input per column, tokenized as ``transform`` does, and the features of a
    row that is no fitted row (position 0)."""
    inputs = raw_inputs(preprocessor.columns, RAW_DTYPE)
    ids = NameTokens(
        len(preprocessor.columns),
        preprocessor.separator,
        preprocessor.vocabulary,
        preprocessor.max_names,
        name=f"{name}_serving_tokens",
    )(list(inputs.values()))
    ids = keras.layers.Reshape((preprocessor.max_names, 1), name=f"{name}_serving_ids")(ids)
    ids = keras.layers.ZeroPadding1D((0, 1), name=f"{name}_serving_position")(ids)
    ids = keras.layers.Reshape((preprocessor.max_names + 1,), name=f"{name}_serving_input")(ids)
    return inputs, features_layer(f"{name}_serving_features", preprocessor)(ids)


def describe(preprocessor: NeighboursPreprocessor) -> dict[str, Any]:
    """The columns (under ``columns: auto``, each candidate's figures), how many names and
    fitted rows, and the chosen power and prior."""
    chosen = {"candidates": preprocessor.candidates} if preprocessor.candidates else {}
    if not preprocessor.columns or preprocessor.bags is None:
        return {"columns": list(preprocessor.columns), **chosen}
    return {
        "columns": preprocessor.columns,
        **chosen,
        "separator": preprocessor.separator,
        "names": len(preprocessor.vocabulary),
        "fitted_rows": int(preprocessor.bags.shape[0]),
        "max_names": preprocessor.max_names,
        "power": preprocessor.power,
        "prior": preprocessor.prior,
    }


# Any value is a name once it is a string.
invalid_rows = accept_every_row
raw_columns = base.raw_columns
normalise_column = base.strings_if_mixed


def is_active(preprocessor: NeighboursPreprocessor) -> bool:
    """In use when it has columns and fitted rows."""
    return bool(preprocessor.columns) and preprocessor.bags is not None


def baseline_columns(
    columns: list[str], rows: pd.DataFrame, encoded: Any, positions: np.ndarray
) -> pd.DataFrame:
    """Nothing: the baseline reads these columns through their own modalities."""
    return rows[[]]


def baseline_transformers(
    columns: list[str], kind: str, params: Mapping[str, Any]
) -> list[BaselineBlock]:
    """None: the baseline reads these columns through their own modalities."""
    return []
