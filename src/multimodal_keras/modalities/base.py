"""The interface every modality module implements, and helpers they share.

A modality module turns some columns of the primary table into one model input:
it fits a preprocessor on training rows, transforms any rows with it, builds the
Keras tower that reads the transformed array, and rebuilds its transform as Keras
layers over raw column values for the exported serving model.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Mapping
from typing import Any, NamedTuple, Protocol

import keras
import numpy as np
import pandas as pd

from multimodal_keras import splitting

ROW_ID = splitting.ROW_ID
# What a raw value is, as the serving model takes it: a number, or a string (or bytes).
NUMBER, STRING = "float64", "string"
# The classical baseline's estimators (model/baseline.py): gradient boosting, which reads
# categories and numbers as they are, and a linear model over encoded features.
GRADIENT_BOOSTING, LINEAR = "gradient_boosting", "linear"

logger = logging.getLogger(__name__)


class BaselineBlock(NamedTuple):
    """One transformer of the classical baseline's ``ColumnTransformer``, and what it reads.

    ``columns`` names columns of the modality's ``baseline_columns`` frame (a list gives the
    transformer a frame, one name a single column); ``label`` tells several blocks of one
    modality apart (a text column each); gradient boosting reads the outputs of a
    ``categorical`` block as categories.
    """

    transformer: Any
    columns: list[str] | str
    label: str = ""
    categorical: bool = False


class Modality(Protocol):
    """What the pipelines, the model builder, validation, the baseline and the synthetic
    tables need from a modality module; none of them names a modality.

    A module also defines ``Options`` and ``TowerOptions``, the schemas (``options.Options``)
    of its parameter block and of ``model.towers.<name>``; parameters.py composes them.

    A module may also define ``wide_features(name, model_input, preprocessor,
    output_units, tower)``: the tensor the head's linear (wide) path reads from the model
    input, or None; features too wide to concatenate (a text bag) may be mapped linearly to
    ``output_units``, the head's width; ``tower`` is ``model.towers.<name>``. Without it the
    modality feeds the deep part only.

    A module whose ``READS_TARGETS`` is true has a ``fit`` that also takes ``targets``, the
    encoded targets of ``train_rows`` (class indices, or scaled values), and ``seed``
    (``params:seed``); its fit node reads ``target_encoder`` to encode them.

    A module whose ``READS_OTHER_COLUMNS`` is true reads columns another modality reads
    too, as strings (the neighbours read categories and name lists again); validation lets
    such a column be listed twice, the serving model gives both one input, and the module
    makes no synthetic columns (it has no ``synthetic_*`` functions).

    A module whose ``COLUMNS_FROM`` names other modalities may be given ``columns: auto``:
    its fit node reads those modalities' parameter blocks too and gives its ``fit`` their
    columns as ``candidates``, among which the fit chooses from the training rows.

    A module may also define ``out_of_fold(preprocessor, rows, encoded)``: ``transform``'s
    output for primary-table rows with the training rows its fit saw encoded out of fold
    (cross-fitted, so that no training row's encoding has seen its own target). The features
    pipeline applies it; the inference pipeline, whose row ids may repeat training rows',
    never does.
    """

    def fit(
        self, train_rows: pd.DataFrame, options: Mapping[str, Any], training_rows: int | None = None
    ) -> Any:
        """Fit a preprocessor on the training rows only, from the modality's options.

        ``train_rows`` may be a seeded sample of the training rows (``processing.fit_rows``);
        ``training_rows`` then says how many training rows there are in all (None: as many
        as ``train_rows`` holds), for a preprocessor that records it.
        """

    def transform(self, preprocessor: Any, rows: pd.DataFrame) -> pd.DataFrame | np.ndarray:
        """Encode any rows with a fitted preprocessor, keeping the rows' order."""

    def model_input(self, encoded: pd.DataFrame | np.ndarray) -> np.ndarray:
        """Turn what ``transform`` gives, or the stored array of such model inputs (as the
        features pipeline saves them), into the numeric array the model input takes."""

    def encoded_shape(self, preprocessor: Any) -> tuple[tuple[int, ...], np.dtype]:
        """The shape of one row of ``model_input(transform(...))`` and its dtype, known from
        the fitted preprocessor before any row is encoded."""

    def build_tower(
        self, name: str, preprocessor: Any, tower: Mapping[str, Any]
    ) -> tuple[keras.KerasTensor, keras.KerasTensor]:
        """Return the named model input and the tower's output for it."""

    def build_serving_input(
        self, name: str, preprocessor: Any
    ) -> tuple[dict[str, keras.KerasTensor], keras.KerasTensor]:
        """Return one raw input per column and the model input computed from them in-graph.

        The computation must give what ``transform`` then ``model_input`` give for the same
        rows, from the same fitted preprocessor.
        """

    def describe(self, preprocessor: Any) -> dict[str, Any]:
        """Summarise the fitted preprocessor for logs and reports."""

    def invalid_rows(self, rows: pd.DataFrame, options: Mapping[str, Any]) -> pd.Series:
        """Why each row this modality cannot use is unusable, indexed by row id."""

    RAW_DTYPE: str
    """``NUMBER`` or ``STRING``: a raw value, as the serving model's input takes it and as
    missing-value markers match it (a numeric marker matches a number)."""

    BASELINE_KINDS: frozenset[str]
    """The baseline estimators that can read this modality (``GRADIENT_BOOSTING``,
    ``LINEAR``); the baseline is gradient boosting when every active modality allows it."""

    def is_active(self, preprocessor: Any) -> bool:
        """Whether the modality is in the model and the baseline: it has configured columns."""

    def raw_columns(self, preprocessor: Any) -> list[str]:
        """The primary table's columns the fitted preprocessor reads."""

    def normalise_column(self, column: str, values: pd.Series) -> pd.Series:
        """One of the modality's columns with the value types it reads (validation's last step)."""

    def baseline_columns(
        self, columns: list[str], rows: pd.DataFrame, encoded: Any, positions: np.ndarray
    ) -> pd.DataFrame:
        """What the baseline's transformers read for ``rows``, one column per raw column.

        Most modalities give the raw columns themselves; ``encoded`` (every row's encoded
        features) at ``positions`` (the rows' positions in it) is there for a modality whose
        raw cells cannot go through a scikit-learn transformer (images).
        """

    def baseline_transformers(
        self, columns: list[str], kind: str, params: Mapping[str, Any]
    ) -> list[BaselineBlock]:
        """Unfitted scikit-learn transformers of the baseline ``kind`` over ``columns``.

        ``params`` is the kind's block of ``params:baseline``. The baseline fits them on the
        training rows only, and never reads the model's preprocessors.
        """

    def synthetic_column(
        self,
        rng: np.random.Generator,
        column: str,
        position: int,
        rows: int,
        spec: Mapping[str, Any],
    ) -> tuple[pd.Series, np.ndarray]:
        """A synthetic column and its term of the hidden score (``synthetic.make_table``);
        ``spec`` is the modality's block of the demo settings, ``position`` the column's
        among the modality's."""

    def synthetic_gaps(self, rng: np.random.Generator, values: pd.Series, rate: float) -> pd.Series:
        """A synthetic column with about ``rate`` of its cells missing, when the modality's
        columns have gaps in a synthetic table (else unchanged, and ``rng`` untouched)."""

    def synthetic_new_rows(
        self, rng: np.random.Generator, values: pd.Series, new_rows: Mapping[str, Any]
    ) -> pd.Series:
        """A synthetic column of rows to score, made harder as ``new_rows`` says
        (``synthetic.make_new_rows``), or unchanged with ``rng`` untouched."""


def accept_every_row(rows: pd.DataFrame, options: Mapping[str, Any]) -> pd.Series:
    """``invalid_rows`` for modalities that can use any value once it is a string."""
    return pd.Series(dtype="string", index=pd.Index([], name=ROW_ID))


def raw_columns(preprocessor: Any) -> list[str]:
    """``raw_columns`` of a preprocessor that keeps its columns as ``columns``."""
    return list(getattr(preprocessor, "columns", None) or [])


def is_active(preprocessor: Any) -> bool:
    """``is_active``: a modality is in use when its preprocessor has columns."""
    return bool(raw_columns(preprocessor))


def unchanged(column: str, values: pd.Series) -> pd.Series:
    """``normalise_column`` for a modality that reads its cells as they are."""
    return values


def strings_if_mixed(column: str, values: pd.Series) -> pd.Series:
    """``normalise_column`` for string-like columns: a column that mixes value types (a
    CSV's numbers among words) is read as strings, which is logged."""
    present = values.dropna()
    kinds = sorted({type(value).__name__ for value in present}) if present.dtype == object else []
    if len(kinds) <= 1:
        return values
    logger.warning(
        "Column %r mixes value types (%s); every value is read as a string.",
        column,
        ", ".join(kinds),
    )
    return values.astype("string")


def raw_column_frame(
    columns: list[str], rows: pd.DataFrame, encoded: Any, positions: np.ndarray
) -> pd.DataFrame:
    """``baseline_columns`` of a modality whose baseline reads its raw columns."""
    return rows[columns]


def synthetic_missing(rng: np.random.Generator, values: pd.Series, rate: float) -> pd.Series:
    """``synthetic_gaps`` that empties about ``rate`` of the cells, drawn cell by cell."""
    values = values.copy()
    values[rng.random(len(values)) < rate] = None
    return values


def no_synthetic_gaps(rng: np.random.Generator, values: pd.Series, rate: float) -> pd.Series:
    """``synthetic_gaps`` of a modality whose synthetic cells are all present."""
    return values


def synthetic_rows_unchanged(
    rng: np.random.Generator, values: pd.Series, new_rows: Mapping[str, Any]
) -> pd.Series:
    """``synthetic_new_rows`` of a modality whose rows to score are made as the table's."""
    return values


def warn_unused_column(modality: str, column: str, how: str = "missing") -> None:
    """Warn that a column holds no value in any training row, so adds nothing to the model."""
    logger.warning(
        "%s column %r is %s in every training row; it adds nothing to the model. Remove it "
        "from %s.columns or fill it in the table.",
        modality.capitalize(),
        column,
        how,
        modality,
    )


# ``columns: auto``: a modality that reads other modalities' columns (``COLUMNS_FROM``)
# chooses among them in its fit.
AUTO_COLUMNS = "auto"


def configured_columns(options: Mapping[str, Any] | None) -> list[str]:
    """Columns configured for a modality by name; none (or ``auto``, chosen by the fit
    among other modalities' columns) lists none."""
    if not options or options.get("columns") == AUTO_COLUMNS:
        return []
    return list(options.get("columns") or [])


def candidate_columns(
    modality: str, options: Mapping[str, Any], sources: Mapping[str, Mapping[str, Any]]
) -> dict[str, str]:
    """The columns a fit reads, each with the modality that lists it: those ``modality``
    lists, or under ``columns: auto`` every column the ``sources`` modalities
    (``COLUMNS_FROM``) list, the first listing it kept."""
    if options.get("columns") != AUTO_COLUMNS:
        return dict.fromkeys(configured_columns(options), modality)
    listed = {}
    for source, source_options in sources.items():
        for column in configured_columns(source_options):
            listed.setdefault(column, source)
    return listed


def encoded_frame(row_ids: pd.Series, values: np.ndarray, names: list[str]) -> pd.DataFrame:
    """An encoded tabular frame: the row id, then one column per encoded feature.

    The feature names are for people reading the file; the model reads positions. A name
    that repeats the row id's or an earlier one (category ``id`` of a column ``row`` is
    one-hot encoded as ``row_id``) gets a suffix, ``#2`` and on.
    """
    taken, unique = {ROW_ID}, []
    for name in map(str, names):
        candidate, repeat = name, 1
        while candidate in taken:
            repeat += 1
            candidate = f"{name}#{repeat}"
        taken.add(candidate)
        unique.append(candidate)
    frame = pd.DataFrame(values, columns=unique)
    frame.insert(0, ROW_ID, row_ids.to_numpy())
    return frame


def feature_values(encoded: pd.DataFrame, dtype: type) -> np.ndarray:
    """The feature block of an encoded tabular frame, without its row id."""
    return encoded.drop(columns=[ROW_ID]).to_numpy(dtype=dtype)


def serving_name(column: str) -> str:
    """The serving model's name for a column's input: letters, digits and ``_`` only.

    Accents are dropped (``café`` to ``cafe``), any other character becomes ``_``
    (``capital-gain`` to ``capital_gain``), a name not starting with a letter gets
    ``column_`` in front, and a name with no letter or digit left is spelt by its code
    points (``😀`` to ``column_1f600``). SavedModel signatures accept no other names.
    """
    ascii_only = unicodedata.normalize("NFKD", column).encode("ascii", "ignore").decode()
    name = re.sub(r"[^A-Za-z0-9_]", "_", ascii_only)
    if not re.search(r"[A-Za-z0-9]", name):
        name = "_".join(f"{ord(character):x}" for character in column)
    return name if name[:1].isalpha() else f"column_{name}"


def raw_inputs(columns: list[str], dtype: str) -> dict[str, keras.KerasTensor]:
    """One serving-model input per raw column, one value per row, named by ``serving_name``."""
    return {
        column: keras.Input(shape=(), dtype=dtype, name=serving_name(column)) for column in columns
    }


def dense_block(
    tensor: keras.KerasTensor, units: list[int], dropout: float, prefix: str
) -> keras.KerasTensor:
    """Dense layers with ReLU, each followed by dropout when it is positive."""
    for index, width in enumerate(units):
        tensor = keras.layers.Dense(width, activation="relu", name=f"{prefix}_dense_{index}")(
            tensor
        )
        if dropout:
            tensor = keras.layers.Dropout(dropout, name=f"{prefix}_dropout_{index}")(tensor)
    return tensor


def add_constant_weights(
    layer: keras.layers.Layer,
    shapes: Mapping[str, tuple[int, ...]],
    initial: Mapping[str, Any],
) -> None:
    """Give ``layer`` one float32 weight per entry of ``shapes``, never trained, as an
    attribute of that name: ``initial[name]`` reshaped when given (a layer built from fitted
    arrays), zeros otherwise (a layer read back, whose values come from the saved weights).
    """
    for name, shape in shapes.items():
        value = initial.get(name)
        initializer = (
            "zeros"
            if value is None
            else keras.initializers.Constant(np.asarray(value, np.float32).reshape(shape))
        )
        setattr(
            layer,
            name,
            layer.add_weight(shape=shape, initializer=initializer, trainable=False, name=name),
        )
