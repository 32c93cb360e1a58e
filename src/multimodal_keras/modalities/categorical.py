"""Categorical columns: one-hot or embedding indices, with scikit-learn encoders.

Categories rarer than ``min_frequency`` in the training rows share one slot. A
category never seen in training is read as those rare ones (``unseen: rare``, where the
column has rare categories: a new director is most like the directors seen once or
twice, and their slot is trained), or gets a slot of its own (``unseen: own``, and
wherever the column has no rare categories): an all-zero one-hot row, or its column's
first slot of the embedding table, which no training row reaches. Missing values and empty
strings are one category of their own, the missing token. Under ``auto`` each column
is one-hot when its training rows have at most ``one_hot_max_categories`` categories,
and an embedding index otherwise: few categories are cheap to spell out, many are
better learnt as dense vectors.

The serving model looks raw strings up in tables made by running ``transform`` on
every training category and on one unseen value, so it encodes as the pipeline does.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import keras
import numpy as np
import pandas as pd
import tensorflow as tf
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, OrdinalEncoder

from multimodal_keras import options
from multimodal_keras.modalities import base
from multimodal_keras.modalities.base import (
    GRADIENT_BOOSTING,
    LINEAR,
    ROW_ID,
    STRING,
    BaselineBlock,
    accept_every_row,
    configured_columns,
    dense_block,
    encoded_frame,
    feature_values,
    raw_inputs,
    warn_unused_column,
)
from multimodal_keras.splitting import FittedOnTrainingRows


class Options(options.Options):
    """``categorical``: the columns and how their categories are encoded."""

    columns: list[str]
    encoding: Literal["auto", "one_hot", "embedding"]
    one_hot_max_categories: options.Positive
    min_frequency: options.Positive | None
    unseen: Literal["rare", "own"]
    missing_token: str


class TowerOptions(options.Options):
    """``model.towers.categorical``."""

    units: options.Units
    dropout: options.Dropout
    embedding_dim: options.Positive


ONE_HOT = "one_hot"
EMBEDDING = "embedding"
AUTO = "auto"
UNKNOWN_CODE = -1
# The baseline's category for a missing cell (its own, not the model's ``missing_token``).
BASELINE_MISSING = "<missing>"

RAW_DTYPE = STRING
BASELINE_KINDS = frozenset({GRADIENT_BOOSTING, LINEAR})


@dataclass
class CategoricalPreprocessor(FittedOnTrainingRows):
    """An encoder fitted on the training rows, and what the tower needs to know of it."""

    columns: list[str]
    encoding: str
    missing_token: str
    encoder: OneHotEncoder | OrdinalEncoder | None
    output_names: list[str] = field(default_factory=list)
    # Embedding only: where each column's indices start in the shared embedding table.
    offsets: list[int] = field(default_factory=list)
    table_size: int = 0
    # Auto only: per column, whether it is one-hot (else an embedding index).
    one_hot_columns: list[bool] = field(default_factory=list)
    # Unseen categories read as the column's rare ones, where it has any.
    unseen_as_rare: bool = False

    @property
    def index_positions(self) -> list[int]:
        """Where the embedding indices sit among the encoded columns (auto and embedding)."""
        if self.encoding == EMBEDDING:
            return list(range(len(self.columns)))
        if self.encoding != AUTO:
            return []
        widths = _block_widths(self)
        starts = np.concatenate([[0], np.cumsum(widths)[:-1]]).astype(int)
        return [
            int(start) for start, hot in zip(starts, self.one_hot_columns, strict=True) if not hot
        ]

    @property
    def one_hot_positions(self) -> list[int]:
        """Where the one-hot (0/1) values sit among the encoded columns."""
        indices = set(self.index_positions)
        return [i for i in range(len(self.output_names)) if i not in indices]


def as_strings(rows: pd.DataFrame, columns: list[str], missing_token: str) -> np.ndarray:
    """The columns as an object array of strings; missing values and "" as the missing token."""
    frame = rows[columns].astype("string").replace("", pd.NA).fillna(missing_token)
    return frame.to_numpy(dtype=object)


def _rare_per_column(encoder: OrdinalEncoder) -> list[Any]:
    """Per column, its rare (infrequent) training categories, or None where it has none."""
    return getattr(encoder, "infrequent_categories_", None) or [None] * len(encoder.categories_)


def _codes_per_column(encoder: OrdinalEncoder) -> list[int]:
    return [
        len(categories) if rare is None else len(categories) - len(rare) + 1
        for categories, rare in zip(encoder.categories_, _rare_per_column(encoder), strict=True)
    ]


def fit(
    train_rows: pd.DataFrame, options: Mapping[str, Any], training_rows: int | None = None
) -> CategoricalPreprocessor:
    """Fit the encoder on the training rows' categorical columns (a sample of them when
    ``training_rows`` says there are more; the encoder records no count)."""
    columns = configured_columns(options)
    encoding = options.get("encoding", ONE_HOT)
    missing_token = str(options["missing_token"])
    if not columns:
        return CategoricalPreprocessor([], encoding, missing_token, None)
    values = as_strings(train_rows, columns, missing_token)
    for column, column_values in zip(columns, values.T, strict=True):
        if (column_values == missing_token).all():
            warn_unused_column("categorical", column)
    min_frequency = options.get("min_frequency") or None
    as_rare = options.get("unseen", "rare") == "rare"
    if encoding == ONE_HOT:
        encoder = OneHotEncoder(
            # Unseen categories: the rare categories' shared column, or all zeros.
            handle_unknown="infrequent_if_exist" if as_rare else "ignore",
            min_frequency=min_frequency,
            sparse_output=False,
            dtype=np.float32,
        ).fit(values)
        names = list(encoder.get_feature_names_out(columns))
        return CategoricalPreprocessor(
            columns, encoding, missing_token, encoder, names, unseen_as_rare=as_rare
        )
    if encoding == EMBEDDING:
        encoder = _ordinal_encoder(values, min_frequency)
        # Each column gets one extra slot, its first, for unseen categories.
        sizes = [codes + 1 for codes in _codes_per_column(encoder)]
        offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(int).tolist()
        return CategoricalPreprocessor(
            columns,
            encoding,
            missing_token,
            encoder,
            list(columns),
            offsets,
            int(sum(sizes)),
            unseen_as_rare=as_rare,
        )
    if encoding == AUTO:
        return _fit_auto(columns, missing_token, values, min_frequency, options, as_rare)
    raise ValueError(f"unknown categorical encoding {encoding!r}")


def _ordinal_encoder(values: np.ndarray, min_frequency: float | None) -> OrdinalEncoder:
    """Codes per column, rare categories sharing one, unseen ones ``UNKNOWN_CODE``."""
    return OrdinalEncoder(
        handle_unknown="use_encoded_value",
        unknown_value=UNKNOWN_CODE,
        min_frequency=min_frequency,
        dtype=np.float64,
    ).fit(values)


def _fit_auto(
    columns: list[str],
    missing_token: str,
    values: np.ndarray,
    min_frequency: float | None,
    options: Mapping[str, Any],
    unseen_as_rare: bool,
) -> CategoricalPreprocessor:
    encoder = _ordinal_encoder(values, min_frequency)
    codes = _codes_per_column(encoder)
    limit = int(options["one_hot_max_categories"])
    hot = [count <= limit for count in codes]
    names: list[str] = []
    for position, (column, is_hot) in enumerate(zip(columns, hot, strict=True)):
        names += (
            [f"{column}_{label}" for label in _code_labels(encoder, position)]
            if is_hot
            else [column]
        )
    # Embedded columns share one table; each gets one extra slot, its first, for unseen ones.
    sizes = [count + 1 for count, is_hot in zip(codes, hot, strict=True) if not is_hot]
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(int).tolist() if sizes else []
    return CategoricalPreprocessor(
        columns, AUTO, missing_token, encoder, names, offsets, int(sum(sizes)), hot, unseen_as_rare
    )


def _unseen_as_rare(encoder: OrdinalEncoder, codes: np.ndarray) -> np.ndarray:
    """Ordinal codes with each unseen category (``UNKNOWN_CODE``) given its column's rare
    code, where the column has rare categories (scikit-learn's ``infrequent_if_exist``,
    which ``OrdinalEncoder`` lacks)."""
    codes = codes.copy()
    for position, (rare, count) in enumerate(
        zip(_rare_per_column(encoder), _codes_per_column(encoder), strict=True)
    ):
        if rare is not None:
            # The rare categories share the column's last code.
            column = codes[:, position]
            column[column == UNKNOWN_CODE] = count - 1
    return codes


def _code_labels(encoder: OrdinalEncoder, position: int) -> list[str]:
    """The category each ordinal code of a column stands for, as OneHotEncoder names them."""
    rare = _rare_per_column(encoder)[position]
    if rare is None:
        return [str(value) for value in encoder.categories_[position]]
    kept = [str(value) for value in encoder.categories_[position] if value not in set(rare)]
    return [*kept, "infrequent_sklearn"]


def _auto_blocks(preprocessor: CategoricalPreprocessor, codes: np.ndarray) -> np.ndarray:
    """One-hot blocks and embedding indices, column by column, as float32."""
    blocks, embedded = [], 0
    for position, (count, hot) in enumerate(
        zip(_codes_per_column(preprocessor.encoder), preprocessor.one_hot_columns, strict=True)
    ):
        column = codes[:, position]
        if hot:
            # Unseen categories (code -1) match no column: an all-zero block.
            blocks.append((column[:, None] == np.arange(count)[None, :]).astype(np.float32))
        else:
            offset = preprocessor.offsets[embedded]
            blocks.append((column - UNKNOWN_CODE + offset).astype(np.float32)[:, None])
            embedded += 1
    return np.hstack(blocks)


def transform(preprocessor: CategoricalPreprocessor, rows: pd.DataFrame) -> pd.DataFrame:
    """Encode every row with the categories learnt from the training rows."""
    if preprocessor.encoder is None:
        return encoded_frame(rows[ROW_ID], np.zeros((len(rows), 0), dtype=np.float32), [])
    values = as_strings(rows, preprocessor.columns, preprocessor.missing_token)
    encoded = preprocessor.encoder.transform(values)
    if preprocessor.unseen_as_rare and isinstance(preprocessor.encoder, OrdinalEncoder):
        encoded = _unseen_as_rare(preprocessor.encoder, encoded)
    if preprocessor.encoding == AUTO:
        encoded = _auto_blocks(preprocessor, encoded)
    elif preprocessor.encoding == EMBEDDING:
        encoded = (encoded - UNKNOWN_CODE + np.asarray(preprocessor.offsets)).astype(np.int32)
    return encoded_frame(rows[ROW_ID], encoded, preprocessor.output_names)


def model_input(encoded: pd.DataFrame | np.ndarray) -> np.ndarray:
    """One-hot floats, or int32 embedding indices; under auto both, as float32.

    A stored array of model inputs (the features pipeline's) is returned as it is.
    """
    if not isinstance(encoded, pd.DataFrame):
        return np.asarray(encoded)
    values = feature_values(encoded, np.float64)
    if all(np.issubdtype(dtype, np.integer) for dtype in encoded.dtypes.iloc[1:]):
        return values.astype(np.int32)
    return values.astype(np.float32)


def encoded_shape(preprocessor: CategoricalPreprocessor) -> tuple[tuple[int, ...], np.dtype]:
    """One column per output name; int32 embedding indices (no column at all as int32,
    as ``model_input`` reads an empty block), else float32."""
    integer = preprocessor.encoder is None or preprocessor.encoding == EMBEDDING
    return (len(preprocessor.output_names),), np.dtype(np.int32 if integer else np.float32)


@keras.saving.register_keras_serializable(package="multimodal_keras")
class TakeColumns(keras.layers.Layer):
    """Some columns of a (rows, columns) input, in a given order and dtype."""

    def __init__(self, positions: list[int], dtype_out: str = "float32", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.positions = [int(position) for position in positions]
        self.dtype_out = dtype_out

    def call(self, values: tf.Tensor) -> tf.Tensor:
        return tf.cast(tf.gather(values, self.positions, axis=1), self.dtype_out)

    def compute_output_spec(self, values: keras.KerasTensor) -> keras.KerasTensor:
        return keras.KerasTensor((values.shape[0], len(self.positions)), dtype=self.dtype_out)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "positions": self.positions, "dtype_out": self.dtype_out}


def _auto_features(
    name: str,
    inputs: keras.KerasTensor,
    preprocessor: CategoricalPreprocessor,
    tower: Mapping[str, Any],
) -> keras.KerasTensor:
    """The one-hot columns beside the embedded ones (``embedding_dim`` wide each)."""
    parts = []
    if preprocessor.one_hot_positions:
        parts.append(TakeColumns(preprocessor.one_hot_positions, name=f"{name}_one_hot")(inputs))
    if preprocessor.index_positions:
        indices = TakeColumns(preprocessor.index_positions, "int32", name=f"{name}_indices")(inputs)
        embedded = keras.layers.Embedding(
            preprocessor.table_size, int(tower["embedding_dim"]), name=f"{name}_embedding"
        )(indices)
        parts.append(keras.layers.Flatten(name=f"{name}_flatten")(embedded))
    return parts[0] if len(parts) == 1 else keras.layers.Concatenate(name=f"{name}_blocks")(parts)


def build_tower(
    name: str, preprocessor: CategoricalPreprocessor, tower: Mapping[str, Any]
) -> tuple[keras.KerasTensor, keras.KerasTensor]:
    """Dense layers over one-hot columns, embeddings, or (auto) both."""
    width = len(preprocessor.output_names)
    units, dropout = list(tower["units"]), float(tower["dropout"])
    if preprocessor.encoding == AUTO:
        inputs = keras.Input(shape=(width,), name=name, dtype="float32")
        features = _auto_features(name, inputs, preprocessor, tower)
        return inputs, dense_block(features, units, dropout, name)
    if preprocessor.encoding == EMBEDDING:
        inputs = keras.Input(shape=(width,), name=name, dtype="int32")
        embedded = keras.layers.Embedding(
            preprocessor.table_size, int(tower["embedding_dim"]), name=f"{name}_embedding"
        )(inputs)
        flat = keras.layers.Flatten(name=f"{name}_flatten")(embedded)
        return inputs, dense_block(flat, units, dropout, name)
    inputs = keras.Input(shape=(width,), name=name, dtype="float32")
    return inputs, dense_block(inputs, units, dropout, name)


def _block_widths(preprocessor: CategoricalPreprocessor) -> list[int]:
    """How many encoded columns each categorical column has."""
    if preprocessor.encoding == EMBEDDING:
        return [1] * len(preprocessor.columns)
    codes = _codes_per_column(preprocessor.encoder)
    if preprocessor.encoding == AUTO:
        return [
            count if hot else 1
            for count, hot in zip(codes, preprocessor.one_hot_columns, strict=True)
        ]
    return codes


def lookup_tables(
    preprocessor: CategoricalPreprocessor,
) -> tuple[list[list[str]], list[np.ndarray]]:
    """Per column, its training categories and the encoded block of each, from ``transform``.

    Block row ``i`` encodes category ``i``; the last row encodes any unseen category.
    """
    vocabularies = [[str(value) for value in values] for values in preprocessor.encoder.categories_]
    unseen = preprocessor.missing_token + "?"
    while any(unseen in vocabulary for vocabulary in vocabularies):
        unseen += "?"
    rows = max(map(len, vocabularies)) + 1
    probe = pd.DataFrame(
        {
            column: vocabulary + [unseen] * (rows - len(vocabulary))
            for column, vocabulary in zip(preprocessor.columns, vocabularies, strict=True)
        }
    )
    probe.insert(0, ROW_ID, np.arange(rows))
    encoded = model_input(transform(preprocessor, probe))
    edges = np.cumsum([0, *_block_widths(preprocessor)])
    blocks = [
        encoded[: len(vocabulary) + 1, start:end]
        for vocabulary, start, end in zip(vocabularies, edges[:-1], edges[1:], strict=True)
    ]
    return vocabularies, blocks


@keras.saving.register_keras_serializable(package="multimodal_keras")
class CategoryLookup(keras.layers.Layer):
    """Raw category strings to the encoded blocks the fitted encoder gives them, concatenated.

    Its config holds the vocabularies and the blocks as lists, and the blocks' dtype.
    """

    def __init__(
        self,
        vocabularies: list[list[str]],
        blocks: list[np.ndarray],
        missing_token: str,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.missing_token = str(missing_token)
        self.vocabularies = [[str(value) for value in vocabulary] for vocabulary in vocabularies]
        self.blocks = [np.asarray(block) for block in blocks]
        self.tables = [
            tf.lookup.StaticHashTable(
                tf.lookup.KeyValueTensorInitializer(
                    tf.constant(vocabulary, dtype=tf.string),
                    tf.range(len(vocabulary), dtype=tf.int64),
                ),
                default_value=len(vocabulary),
            )
            for vocabulary in vocabularies
        ]

    def call(self, columns: list[tf.Tensor]) -> tf.Tensor:
        parts = []
        for table, block, column in zip(self.tables, self.blocks, columns, strict=True):
            values = tf.where(tf.equal(column, ""), self.missing_token, column)
            parts.append(tf.gather(tf.constant(block), table.lookup(values)))
        return tf.concat(parts, axis=1)

    def compute_output_spec(self, columns: list[keras.KerasTensor]) -> keras.KerasTensor:
        width = sum(block.shape[1] for block in self.blocks)
        return keras.KerasTensor((columns[0].shape[0], width), dtype=str(self.blocks[0].dtype))

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "vocabularies": self.vocabularies,
            "blocks": [block.tolist() for block in self.blocks],
            "block_dtype": str(self.blocks[0].dtype),
            "missing_token": self.missing_token,
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> CategoryLookup:
        dtype = config.pop("block_dtype")
        blocks = [np.asarray(block, dtype=dtype) for block in config.pop("blocks")]
        return cls(blocks=blocks, **config)


def build_serving_input(
    name: str, preprocessor: CategoricalPreprocessor
) -> tuple[dict[str, keras.KerasTensor], keras.KerasTensor]:
    """One string input per column, looked up in tables made by ``transform`` itself."""
    inputs = raw_inputs(preprocessor.columns, RAW_DTYPE)
    vocabularies, blocks = lookup_tables(preprocessor)
    lookup = CategoryLookup(
        vocabularies, blocks, preprocessor.missing_token, name=f"{name}_serving_lookup"
    )
    return inputs, lookup(list(inputs.values()))


def describe(preprocessor: CategoricalPreprocessor) -> dict[str, Any]:
    """Categories kept per column, and the width of the encoded block."""
    if preprocessor.encoder is None:
        return {"columns": []}
    return {
        "columns": preprocessor.columns,
        "encoding": preprocessor.encoding,
        "categories": {
            column: [str(value) for value in categories]
            for column, categories in zip(
                preprocessor.columns, preprocessor.encoder.categories_, strict=True
            )
        },
        "encoded_width": len(preprocessor.output_names),
        **(
            {"one_hot": dict(zip(preprocessor.columns, preprocessor.one_hot_columns, strict=True))}
            if preprocessor.encoding == AUTO
            else {}
        ),
    }


# Any value is a category once it is a string.
invalid_rows = accept_every_row
is_active = base.is_active
raw_columns = base.raw_columns
normalise_column = base.strings_if_mixed


def wide_features(
    name: str,
    inputs: keras.KerasTensor,
    preprocessor: CategoricalPreprocessor,
    output_units: int,
    tower: Mapping[str, Any],
) -> keras.KerasTensor:
    """What the linear (wide) path reads: one weight per category of every column.

    One-hot columns are read as they are; embedding indices through a table one wide.
    """
    if preprocessor.encoding == ONE_HOT:
        return inputs
    parts = []
    if preprocessor.one_hot_positions:
        parts.append(
            TakeColumns(preprocessor.one_hot_positions, name=f"{name}_wide_one_hot")(inputs)
        )
    if preprocessor.index_positions:
        indices = TakeColumns(preprocessor.index_positions, "int32", name=f"{name}_wide_indices")(
            inputs
        )
        weights = keras.layers.Embedding(preprocessor.table_size, 1, name=f"{name}_wide_weights")(
            indices
        )
        parts.append(keras.layers.Flatten(name=f"{name}_wide_flatten")(weights))
    return parts[0] if len(parts) == 1 else keras.layers.Concatenate(name=f"{name}_wide")(parts)


# The classical baseline (model/baseline.py): its own encoding of the raw columns.


def category_values(frame: pd.DataFrame) -> np.ndarray:
    """Raw category cells as strings, empty strings and missing cells as NaN (to impute)."""
    strings = frame.astype("string").replace("", pd.NA)
    return strings.to_numpy(dtype=object, na_value=np.nan)


baseline_columns = base.raw_column_frame


def baseline_transformers(
    columns: list[str], kind: str, params: Mapping[str, Any]
) -> list[BaselineBlock]:
    """Missing cells as a category of their own, then one-hot columns (linear; rarer than
    ``category_min_frequency`` share one, unseen ones the infrequent column) or ordinal codes
    (gradient boosting; at most ``max_bins`` per column, unseen ones missing).
    """
    if kind == GRADIENT_BOOSTING:
        encoder = OrdinalEncoder(
            handle_unknown="use_encoded_value",
            unknown_value=np.nan,
            # Codes must stay below max_bins; rarer categories share one code.
            max_categories=int(params.get("max_bins", 255)),
            dtype=np.float64,
        )
    else:
        encoder = OneHotEncoder(
            handle_unknown="infrequent_if_exist",
            min_frequency=params.get("category_min_frequency") or None,
        )
    steps = Pipeline(
        [
            ("strings", FunctionTransformer(category_values, feature_names_out="one-to-one")),
            ("impute", SimpleImputer(strategy="constant", fill_value=BASELINE_MISSING)),
            ("encode", encoder),
        ]
    )
    return [BaselineBlock(steps, list(columns), categorical=kind == GRADIENT_BOOSTING)]


# Synthetic tables (synthetic.py): levels with random effects on the hidden score.


def synthetic_column(
    rng: np.random.Generator, column: str, position: int, rows: int, spec: Mapping[str, Any]
) -> tuple[pd.Series, np.ndarray]:
    """``levels`` categories ``<column>_<k>``, Dirichlet-weighted, each with a random effect."""
    levels = [f"{column}_{index}" for index in range(int(spec["levels"]))]
    weights = rng.dirichlet(np.full(len(levels), float(spec["concentration"])))
    codes = rng.choice(len(levels), size=rows, p=weights)
    effects = rng.normal(0.0, float(spec["effect"]), size=len(levels))
    values = pd.Series(np.asarray(levels, dtype=object)[codes], dtype="string")
    return values, effects[codes]


synthetic_gaps = base.synthetic_missing


def synthetic_new_rows(
    rng: np.random.Generator, values: pd.Series, new_rows: Mapping[str, Any]
) -> pd.Series:
    """About ``unseen_rate`` of the cells hold ``unseen_category``, which no table has."""
    values = values.copy()
    values[rng.random(len(values)) < float(new_rows["unseen_rate"])] = new_rows["unseen_category"]
    return values
