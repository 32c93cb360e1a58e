"""Checks a table against the configured columns before anything is fitted on it.

The raw table is read a chunk of rows at a time (``validate_chunks``): a first pass
checks everything that needs every row and raises the one message a whole table would
give; the primary table's rows then come from a second pass, as they are written.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from multimodal_keras import tables
from multimodal_keras.errors import MultimodalKerasError, one_line
from multimodal_keras.missing_values import mark_missing
from multimodal_keras.modalities import MODALITIES
from multimodal_keras.modalities.base import NUMBER, ROW_ID, configured_columns, serving_name
from multimodal_keras.targets import REGRESSION

logger = logging.getLogger(__name__)

DROP = "drop"
# Rows a message shows as examples of a problem.
EXAMPLES = 5


def feature_columns(modality_params: Mapping[str, Mapping[str, Any]]) -> dict[str, list[str]]:
    """The configured columns of each modality, by modality name."""
    return {name: configured_columns(options) for name, options in modality_params.items()}


def check_columns(table: pd.DataFrame, required: Mapping[str, list[str]], table_name: str) -> None:
    """Raise one error naming every configured column the table lacks."""
    duplicated = sorted({str(c) for c in table.columns[table.columns.duplicated()]})
    if duplicated:
        raise MultimodalKerasError(
            f"The {table_name} has duplicate column names {duplicated}; "
            "rename them so that each column name is unique."
        )
    check_repeated_header(table, required, table_name)
    missing = [
        f"{column!r} ({role})"
        for role, columns in required.items()
        for column in columns
        if column not in table.columns
    ]
    if missing:
        raise MultimodalKerasError(
            f"The {table_name} lacks the configured column(s) {', '.join(missing)}; "
            f"its columns are {[str(c) for c in table.columns]}. "
            "Fix the column names in conf/ (parameters) or in the table."
        )


def repeated_header(columns: pd.Index) -> dict[str, list[str]]:
    """Names a file's header repeats, with the names pandas gave the repeats (``price.1``)."""
    names = {str(column) for column in columns}
    repeats: dict[str, list[str]] = {}
    for column in map(str, columns):
        stem, dot, number = column.rpartition(".")
        if dot and number.isdigit() and stem in names:
            repeats.setdefault(stem, []).append(column)
    return repeats


def check_repeated_header(
    table: pd.DataFrame, required: Mapping[str, list[str]], table_name: str
) -> None:
    """Stop when a configured column's name is repeated in the file's header.

    pandas reads a repeated name as ``price``, ``price.1``: training on either would read a
    column the user did not mean. Repeats of unconfigured columns only get a warning.
    """
    repeats = repeated_header(table.columns)
    if not repeats:
        return
    configured = {column for columns in required.values() for column in columns}
    named = ", ".join(f"{stem!r} (read as {[stem, *renamed]})" for stem, renamed in repeats.items())
    if configured & {name for stem, renamed in repeats.items() for name in (stem, *renamed)}:
        raise MultimodalKerasError(
            f"The {table_name}'s header repeats the column name(s) {named}; rename the "
            "repeated columns in the file so that each name is unique."
        )
    logger.warning(
        "The %s's header repeats the column name(s) %s; none of them is configured.",
        table_name,
        named,
    )


def reads_again(first: str, role: str) -> bool:
    """Whether ``role`` may read a column ``first`` reads too: a modality that reads other
    modalities' columns again (``READS_OTHER_COLUMNS``, the neighbours) may, as strings."""
    module = MODALITIES.get(role)
    owner = MODALITIES.get(first)
    return (
        module is not None
        and owner is not None
        and getattr(module, "READS_OTHER_COLUMNS", False)
        and owner.RAW_DTYPE == module.RAW_DTYPE
    )


def check_roles(target: str | None, columns: Mapping[str, list[str]]) -> None:
    """Raise when a column is configured twice, is both a feature and the target, or two
    columns would share one serving-model input name.
    """
    seen: dict[str, str] = {}
    served: dict[str, str] = {}
    for role, names in columns.items():
        for name in names:
            other = served.setdefault(serving_name(name), name)
            if other != name:
                raise MultimodalKerasError(
                    f"Columns {other!r} and {name!r} would both be the serving model's input "
                    f"{serving_name(name)!r} (its names keep letters, digits and _ only); "
                    "rename one of them in the table."
                )
            if name == target:
                raise MultimodalKerasError(
                    f"Column {name!r} is configured as a {role} feature and as the target; "
                    f"remove it from {role}.columns."
                )
            if name in seen and not reads_again(seen[name], role):
                raise MultimodalKerasError(
                    f"Column {name!r} is configured under both {seen[name]} and {role}; "
                    "keep it under one modality."
                )
            seen.setdefault(name, role)
    if not seen:
        raise MultimodalKerasError(
            "No feature columns are configured; list columns under at least one of "
            f"{', '.join(columns)} in conf/base/parameters_features.yml."
        )


def check_marker_columns(table: pd.DataFrame, table_params: Mapping[str, Any]) -> None:
    """Raise when ``table.missing_values_per_column`` names a column the table lacks."""
    named = list(table_params.get("missing_values_per_column") or {})
    unknown = [column for column in named if column not in table.columns]
    if unknown:
        raise MultimodalKerasError(
            f"table.missing_values_per_column names the column(s) {unknown}, which the raw "
            f"table does not have (its columns are {[str(c) for c in table.columns]}); fix "
            "the name(s) or remove the entries in conf/<env>/parameters*.yml."
        )


def read_markers_as_missing(
    table: pd.DataFrame,
    markers: Mapping[str, list[str]],
    features: Mapping[str, list[str]],
    table_name: str,
) -> pd.DataFrame:
    """The table with its missing-value markers as missing values, counted in one log line."""
    markers = {column: values for column, values in markers.items() if column in table.columns}
    if not markers:
        return table
    table, counts = mark_missing(table, markers, number_columns(features))
    log_markers(counts, markers, table_name)
    return table


def log_markers(
    counts: Mapping[str, int], markers: Mapping[str, list[str]], table_name: str
) -> None:
    """One log line: how many cells of each column held a missing-value marker."""
    found = {column: count for column, count in counts.items() if count}
    if found:
        logger.info(
            "Read %d cell(s) of the %s holding a missing-value marker as missing: %s.",
            sum(found.values()),
            table_name,
            ", ".join(f"{column!r}: {count}" for column, count in found.items()),
        )
    else:
        logger.info(
            "No cell of the %s holds a missing-value marker (%s).",
            table_name,
            "; ".join(f"{column!r}: {values}" for column, values in markers.items()),
        )


def with_row_ids(table: pd.DataFrame, id_column: str | None) -> pd.DataFrame:
    """The table with a stable ``row_id`` first: the id column when set, else the row position."""
    check_row_id_column(table.columns, id_column)
    if id_column:
        ids = table[id_column]
        check_unique_ids(ids, id_column)
        row_ids = ids.to_numpy()
    else:
        row_ids = np.arange(len(table), dtype=np.int64)
    table = table.drop(columns=[ROW_ID], errors="ignore")
    table.insert(0, ROW_ID, row_ids)
    return table.reset_index(drop=True)


def check_row_id_column(columns: pd.Index | tuple[str, ...], id_column: str | None) -> None:
    """Raise when the table has a ``row_id`` column that is not its id column."""
    if ROW_ID in columns and id_column != ROW_ID:
        raise MultimodalKerasError(
            f"The table already has a column named {ROW_ID!r}; rename it, or set "
            f"table.id_column to {ROW_ID!r} to use it as the row id."
        )


def check_unique_ids(ids: pd.Series, id_column: str) -> None:
    """Raise when the id column repeats a value or misses one."""
    duplicates = ids[ids.duplicated()].unique()[:5]
    if len(duplicates) or ids.isna().any():
        raise MultimodalKerasError(
            f"The id column {id_column!r} must be unique and present in every row "
            f"(duplicates include {list(duplicates)}); fix it or unset table.id_column."
        )


def check_not_empty(table: pd.DataFrame, table_name: str) -> None:
    """Raise when the table has no rows."""
    if table.empty:
        raise no_rows(table_name)


def no_rows(table_name: str) -> MultimodalKerasError:
    """The error for a table without rows."""
    return MultimodalKerasError(
        f"The {table_name} has no rows; point it in the catalog at a table with data."
    )


def plain(value: Any) -> Any:
    """A numpy scalar as the Python value it holds, for messages (``1``, not ``np.int64(1)``)."""
    return value.item() if isinstance(value, np.generic) else value


def _examples(table: pd.DataFrame, mask: pd.Series, column: str) -> list[tuple[Any, Any]]:
    """The row id and value of the first few rows ``mask`` marks."""
    picked = table.loc[mask, [ROW_ID, column]].head(EXAMPLES)
    return list(zip(picked[ROW_ID], picked[column], strict=True))


def number_columns(features: Mapping[str, list[str]]) -> list[str]:
    """The configured columns whose raw values are numbers (a numeric marker matches them)."""
    return [
        column
        for name, columns in features.items()
        if MODALITIES[name].RAW_DTYPE == NUMBER
        for column in columns
    ]


def normalise_types(table: pd.DataFrame, features: Mapping[str, list[str]]) -> pd.DataFrame:
    """Each configured column with the value types its modality reads (numbers as floats,
    string-like columns that mix value types as strings, logged)."""
    table = table.copy()
    for name, columns in features.items():
        for column in columns:
            table[column] = MODALITIES[name].normalise_column(column, table[column])
    return table


def _unusable(modality: str, reasons: pd.Series, count: int | None = None) -> str:
    """How many rows (``count``, else all ``reasons``) a modality cannot use, and why for the
    first few, by row id."""
    shown = "; ".join(f"row {row}: {why}" for row, why in reasons.head(EXAMPLES).items())
    total = len(reasons) if count is None else count
    return f"{total} row(s) have {modality} values that cannot be used ({shown})"


def check_usable_rows(
    table: pd.DataFrame, modality_params: Mapping[str, Mapping[str, Any]]
) -> None:
    """Raise, naming the rows, when a modality cannot use some of the rows to be scored."""
    for name, options in modality_params.items():
        if not configured_columns(options):
            continue
        reasons = MODALITIES[name].invalid_rows(table, options)
        if not reasons.empty:
            raise MultimodalKerasError(
                f"{_unusable(name, reasons)}; fix or remove these rows to score the others."
            )


def validate_new_rows(
    new_rows: pd.DataFrame,
    id_column: str | None,
    modality_params: Mapping[str, Mapping[str, Any]],
    markers: Mapping[str, list[str]] | None = None,
) -> pd.DataFrame:
    """Rows to score: ``row_id``, then the feature columns, types as in training.

    The target is not needed and other columns are left out; cells holding one of the
    ``markers`` training recorded are missing values; every row must be usable, so that
    each gets a prediction, whatever ``invalid_rows`` says for training.
    """
    features = feature_columns(modality_params)
    extra = {"id column": [id_column]} if id_column else {}
    check_columns(new_rows, {**features, **extra}, "table of rows to score")
    check_not_empty(new_rows, "table of rows to score")
    kept = [column for columns in (*features.values(), *extra.values()) for column in columns]
    rows = with_row_ids(new_rows[list(dict.fromkeys(kept))], id_column)
    rows = read_markers_as_missing(rows, markers or {}, features, "table of rows to score")
    check_usable_rows(rows, modality_params)
    return normalise_types(rows, features)


def unstorable(frame: pd.DataFrame, error: Exception) -> MultimodalKerasError:
    """The project's error for the first column Arrow cannot store as one typed column."""
    bounds = np.iinfo(np.int64)
    for column in frame.columns:
        too_large = [
            value for value in frame[column].dropna()
            if isinstance(value, int) and not bounds.min <= value <= bounds.max
        ]  # fmt: skip
        if too_large:
            return MultimodalKerasError(
                f"Column {column!r} of the raw table holds integers beyond 64 bits (such as "
                f"{too_large[0]}), which a table column cannot store; store them as text "
                "(quoted in a CSV file, a string column in Parquet)."
            )
        try:
            pa.array(frame[column], from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError) as found:
            return MultimodalKerasError(
                f"Column {column!r} of the raw table holds values that cannot be stored in one "
                f"table column ({one_line(found)}); give its values one type."
            )
    return MultimodalKerasError(
        f"A column of the raw table holds values that cannot be stored in one table column "
        f"({one_line(error)}); give its values one type."
    )


def validate(
    raw_table: pd.DataFrame,
    table_params: Mapping[str, Any],
    group_column: str | None,
    modality_params: Mapping[str, Mapping[str, Any]],
    markers: Mapping[str, list[str]] | None = None,
) -> pd.DataFrame:
    """``validate_chunks`` of a table whole in memory, as one frame."""
    whole = tables.from_frame(raw_table, max(len(raw_table), 1))
    return validate_chunks(whole, table_params, group_column, modality_params, markers).to_pandas()


def validate_chunks(
    raw_table: tables.TableChunks,
    table_params: Mapping[str, Any],
    group_column: str | None,
    modality_params: Mapping[str, Mapping[str, Any]],
    markers: Mapping[str, list[str]] | None = None,
) -> tables.TableChunks:
    """The primary table: ``row_id``, then the configured columns, unusable rows handled.

    Cells holding one of their column's ``markers`` (``missing_values.resolve``) are
    missing values before anything else looks at them. Rows without a target and rows a
    modality cannot use are dropped or stop the run, as configured; every other problem
    stops the run with one message.

    A first pass reads the raw table chunk by chunk and checks what needs every row (a
    unique id, a target that varies, the rows each modality cannot use, the value types
    of each column); it raises before any row is returned. The rows come from a second,
    lazy pass as they are read, with the types the first pass chose for every chunk.
    """
    target, id_column = table_params["target"], table_params.get("id_column")
    features = feature_columns(modality_params)
    check_roles(target, features)
    extra = {
        role: [name]
        for role, name in (
            ("target", target),
            ("id column", id_column),
            ("group column", group_column),
        )
        if name
    }
    header = pd.DataFrame(columns=pd.Index(raw_table.columns))
    check_columns(header, {**features, **extra}, "raw table")
    check_marker_columns(header, table_params)
    kept = list(
        dict.fromkeys(
            column for columns in (*features.values(), *extra.values()) for column in columns
        )
    )
    ingest = Ingest(
        kept=tuple(kept),
        target=target,
        id_column=id_column,
        policy=table_params.get("missing_target", DROP),
        task=table_params.get("task"),
        features=features,
        modality_params=modality_params,
        markers={column: values for column, values in (markers or {}).items() if column in kept},
    )
    survey = Survey()
    for chunk in raw_table.chunks(kept):
        ingest.survey(chunk, survey)
    layout = ingest.conclude(survey)
    return primary_rows(raw_table, kept, ingest, layout)


@contextmanager
def quiet(logger_names: list[str]) -> Iterator[None]:
    """Hold back the warnings of these loggers: the first pass logs them once, for the table."""

    def drop(record: logging.LogRecord) -> bool:
        return record.levelno < logging.WARNING

    loggers = [logging.getLogger(name) for name in dict.fromkeys(logger_names)]
    for each in loggers:
        each.addFilter(drop)
    try:
        yield
    finally:
        for each in loggers:
            each.removeFilter(drop)


@dataclass
class ModalitySurvey:
    """What the first pass found one modality cannot use."""

    rows_before: int = 0
    count: int = 0
    examples: list[pd.Series] = field(default_factory=list)


@dataclass
class Survey:
    """What the first pass over the raw table found, a chunk at a time."""

    rows: int = 0
    kept_rows: int = 0
    ids: list[pd.Series] = field(default_factory=list)
    marker_counts: dict[str, int] = field(default_factory=dict)
    missing_target: int = 0
    missing_examples: list[Any] = field(default_factory=list)
    not_numbers: int = 0
    not_number_examples: list[tuple[Any, Any]] = field(default_factory=list)
    infinite: int = 0
    infinite_examples: list[tuple[Any, Any]] = field(default_factory=list)
    first_target: list[Any] = field(default_factory=list)
    target_varies: bool = False
    modalities: dict[str, ModalitySurvey] = field(default_factory=dict)
    keep: list[np.ndarray] = field(default_factory=list)
    kinds: dict[str, dict[str, Any]] = field(default_factory=dict)
    typed_kinds: dict[str, dict[str, Any]] = field(default_factory=dict)
    fields: dict[str, dict[pa.DataType, tuple[pa.Field, dict[str, Any]]]] = field(
        default_factory=dict
    )
    empty_fields: dict[str, dict[pa.DataType, tuple[pa.Field, dict[str, Any]]]] = field(
        default_factory=dict
    )
    pandas_metadata: dict[str, Any] | None = None


@dataclass(frozen=True)
class Layout:
    """What the second pass needs: the rows kept, the type each mixed column is read as,
    and the Arrow schema every chunk of the primary table is written with."""

    keep: np.ndarray
    conversions: dict[str, Any]
    schema: pa.Schema
    num_rows: int


def _head(found: list[Any], more: Any) -> None:
    """Extend the examples a message shows, up to ``EXAMPLES``."""
    found.extend(list(more)[: max(EXAMPLES - len(found), 0)])


@dataclass(frozen=True)
class Ingest:
    """The checks and steps of validation, applied chunk by chunk."""

    kept: tuple[str, ...]
    target: str
    id_column: str | None
    policy: str
    task: str | None
    features: Mapping[str, list[str]]
    modality_params: Mapping[str, Mapping[str, Any]]
    markers: Mapping[str, list[str]]

    def columns(self) -> list[str]:
        """The primary table's columns: ``row_id``, then the kept ones."""
        return [ROW_ID, *(column for column in self.kept if column != ROW_ID)]

    def loggers(self) -> list[str]:
        """The modules whose ``normalise_column`` may log, held back in the chunk passes."""
        return [MODALITIES[name].normalise_column.__module__ for name in self.features]

    def marked(self, chunk: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, int]]:
        """The raw chunk with ``row_id`` first (the id column, else the row's position in the
        raw table) and its missing-value markers read as missing."""
        row_ids = chunk[self.id_column].to_numpy() if self.id_column else chunk.index.to_numpy()
        rows = chunk.drop(columns=[ROW_ID], errors="ignore")
        rows.insert(0, ROW_ID, row_ids)
        if not self.markers:
            return rows, {}
        return mark_missing(rows, self.markers, number_columns(self.features))

    def normalised(self, rows: pd.DataFrame, conversions: Mapping[str, Any]) -> pd.DataFrame:
        """``normalise_types`` of one chunk, then each mixed column as the whole table's."""
        with quiet(self.loggers()):
            rows = normalise_types(rows, self.features)
        for column, dtype in conversions.items():
            if rows[column].dtype != dtype:
                rows[column] = rows[column].astype(dtype)
        return rows

    def survey(self, chunk: pd.DataFrame, survey: Survey) -> None:
        """Check one chunk of the raw table's kept columns and note what it holds."""
        survey.rows += len(chunk)
        if self.id_column:
            survey.ids.append(chunk[self.id_column].copy())  # not a view of the chunk
        rows, counts = self.marked(chunk)
        for column, count in counts.items():
            survey.marker_counts[column] = survey.marker_counts.get(column, 0) + count
        missing = rows[self.target].isna()
        survey.missing_target += int(missing.sum())
        _head(survey.missing_examples, rows.loc[missing, ROW_ID].head(EXAMPLES))
        if self.policy == DROP:
            rows = rows.loc[~missing]
        self.survey_target(rows, survey)
        rows = self.survey_modalities(rows, survey)
        keep = np.zeros(len(chunk), dtype=bool)
        keep[rows.index.to_numpy() - chunk.index[0]] = True
        survey.keep.append(keep)
        survey.kept_rows += len(rows)
        if not rows.empty and not self.fails(survey):
            self.survey_types(rows, survey)

    def fails(self, survey: Survey) -> bool:
        """Whether the first pass has already found a problem that stops the run (the
        types of the rows are then not needed, and may not be readable)."""
        refused = any(
            found.count and self.modality_params[name].get("invalid_rows", "error") != DROP
            for name, found in survey.modalities.items()
        )
        missing = survey.missing_target and self.policy != DROP
        return bool(refused or missing or survey.not_numbers or survey.infinite)

    def survey_target(self, rows: pd.DataFrame, survey: Survey) -> None:
        """Note target values that are not numbers (regression), infinite, and whether the
        target varies."""
        values = rows[self.target]
        numbers = pd.to_numeric(values, errors="coerce")
        if self.task == REGRESSION:
            bad = values.notna() & numbers.isna()
            survey.not_numbers += int(bad.sum())
            _head(survey.not_number_examples, _examples(rows, bad, self.target))
        infinite = np.isinf(numbers.to_numpy(dtype=float, na_value=np.nan))
        if infinite.any() and (self.task == REGRESSION or pd.api.types.is_numeric_dtype(values)):
            mask = pd.Series(infinite, index=rows.index)
            survey.infinite += int(infinite.sum())
            _head(survey.infinite_examples, _examples(rows, mask, self.target))
        distinct = values.dropna().unique()
        if len(distinct) and not survey.first_target:
            survey.first_target.append(distinct[0])
        if len(distinct) > 1 or (len(distinct) and distinct[0] != survey.first_target[0]):
            survey.target_varies = True

    def survey_modalities(self, rows: pd.DataFrame, survey: Survey) -> pd.DataFrame:
        """Note the rows each modality cannot use; the chunk without those it drops."""
        for name, options in self.modality_params.items():
            if not configured_columns(options) or rows.empty:
                continue
            found = survey.modalities.setdefault(name, ModalitySurvey())
            found.rows_before += len(rows)
            reasons = MODALITIES[name].invalid_rows(rows, options)
            if reasons.empty:
                continue
            found.count += len(reasons)
            if sum(map(len, found.examples)) < EXAMPLES:
                found.examples.append(reasons.head(EXAMPLES))
            if options.get("invalid_rows", "error") == DROP:
                rows = rows.loc[~rows[ROW_ID].isin(reasons.index)]
        return rows

    def survey_types(self, rows: pd.DataFrame, survey: Survey) -> None:
        """Note the value types of each feature column and the Arrow type of every column."""
        for column in (column for columns in self.features.values() for column in columns):
            values = rows[column].dropna()
            if values.dtype != object:
                # A typed chunk (a CSV file's, read as numbers here and as words there)
                # counts only when the chunks' types cannot be unified.
                typed = survey.typed_kinds.setdefault(column, {})
                for value in values.iloc[:1].tolist():
                    typed.setdefault(type(value).__name__, value)
                continue
            seen = survey.kinds.setdefault(column, {})
            for value in values:
                seen.setdefault(type(value).__name__, value)
        normalised = self.normalised(rows, {})
        try:
            schema = pa.Schema.from_pandas(normalised, preserve_index=False)
        except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError) as error:
            raise unstorable(normalised, error) from None
        entries = schema.pandas_metadata["columns"]
        empty = normalised.isna().all()
        for each, entry in zip(schema, entries, strict=True):
            # A column with no value in this chunk (read from a CSV file as floats, or
            # object) takes the type the other chunks give it.
            found = survey.empty_fields if empty[each.name] else survey.fields
            found.setdefault(each.name, {}).setdefault(each.type, (each, entry))
        if survey.pandas_metadata is None:
            survey.pandas_metadata = schema.pandas_metadata

    def conclude(self, survey: Survey) -> Layout:
        """Log what the first pass found and raise the first problem, in validation's order;
        the rows to keep and the types every chunk is written with."""
        if survey.rows == 0:
            raise no_rows("raw table")
        check_row_id_column(self.kept, self.id_column)
        if self.id_column:
            check_unique_ids(pd.concat(survey.ids, ignore_index=True), self.id_column)
        if self.markers:
            log_markers(survey.marker_counts, self.markers, "raw table")
        self.conclude_target(survey)
        for name, options in self.modality_params.items():
            found = survey.modalities.get(name, ModalitySurvey())
            if not found.count:
                continue
            reasons = pd.concat(found.examples)
            if options.get("invalid_rows", "error") != DROP:
                raise MultimodalKerasError(
                    f"{_unusable(name, reasons, found.count)}; fix them, or set "
                    f"{name}.invalid_rows to 'drop' to leave such rows out."
                )
            logger.warning(
                "Dropped %d of %d rows with unusable %s values (first: row %s, %s).",
                found.count,
                found.rows_before,
                name,
                reasons.index[0],
                reasons.iloc[0],
            )
        if survey.kept_rows == 0:
            raise no_rows("table left after dropping unusable rows")
        conversions = self.conversions(survey)
        return Layout(
            keep=np.concatenate(survey.keep),
            conversions=conversions,
            schema=self.schema(survey, conversions),
            num_rows=survey.kept_rows,
        )

    def conclude_target(self, survey: Survey) -> None:
        """Raise on, or log, missing, unusable and constant target values."""
        target = self.target
        if survey.missing_target == survey.rows:
            raise MultimodalKerasError(
                f"The target column {target!r} is empty in every row; "
                "point table.target at the column that holds the labels."
            )
        if survey.missing_target and self.policy != DROP:
            raise MultimodalKerasError(
                f"{survey.missing_target} row(s) have no value in target column {target!r} "
                f"(row ids {survey.missing_examples}...); fill them, or set "
                "table.missing_target to 'drop'."
            )
        if survey.missing_target:
            logger.warning(
                "Dropped %d of %d rows with no value in target column %r.",
                survey.missing_target,
                survey.rows,
                target,
            )
        if survey.not_numbers:
            shown = [f"row {row}: {plain(value)!r}" for row, value in survey.not_number_examples]
            raise MultimodalKerasError(
                f"table.task is regression, but the target column {target!r} holds "
                f"{survey.not_numbers} value(s) that are not numbers ({'; '.join(shown)}); fix "
                "them, or set table.task to multiclass."
            )
        if survey.infinite:
            shown = [f"row {row}: {plain(value)!r}" for row, value in survey.infinite_examples]
            raise MultimodalKerasError(
                f"The target column {target!r} holds {survey.infinite} infinite value(s) "
                f"({'; '.join(shown)}); fix them in the table or remove those rows."
            )
        if not survey.target_varies:
            raise MultimodalKerasError(
                f"The target column {target!r} has one value only "
                f"({plain(survey.first_target[0])!r}); a model needs at least two classes, or "
                "varying values for regression: check table.target."
            )

    def conversions(self, survey: Survey) -> dict[str, Any]:
        """The type each column whose values mix types across the table is read as, as its
        modality reads such a column (logged once, for the whole table)."""
        conversions = {}
        for name, columns in self.features.items():
            for column in columns:
                kinds = survey.kinds.get(column, {})
                if unified(survey.fields.get(column, {})) is None:
                    kinds = {**survey.typed_kinds.get(column, {}), **kinds}
                if len(kinds) < 2:
                    continue
                sample = pd.Series(list(kinds.values()), dtype=object)
                read = MODALITIES[name].normalise_column(column, sample)
                if read.dtype != object:
                    conversions[column] = read.dtype
        return conversions

    def schema(self, survey: Survey, conversions: Mapping[str, Any]) -> pa.Schema:
        """One Arrow schema for every chunk: each column's types in the chunks unified
        (a chunk of missing values takes the others' type, integers widen to floats)."""
        fields, entries = [], []
        for column in self.columns():
            found = survey.fields.get(column) or dict(list(survey.empty_fields[column].items())[:1])
            if column in conversions:
                typed = pd.DataFrame({column: pd.Series([], dtype=conversions[column])})
                schema = pa.Schema.from_pandas(typed, preserve_index=False)
                fields.append(schema.field(0))
                entries.append(schema.pandas_metadata["columns"][0])
                continue
            common = unified(found)
            if common is None:
                types = [str(kind) for kind in found]
                raise MultimodalKerasError(
                    f"Column {column!r} of the raw table is read as {types} in different "
                    "chunks of rows; give it one type (for a CSV file, name its type in the "
                    f"catalog's load_args, e.g. dtype: {{{column}: str}})."
                )
            entry = found.get(common.type, next(iter(found.values())))[1]
            fields.append(common)
            entries.append(entry)
        metadata = dict(survey.pandas_metadata or {})
        metadata["columns"] = entries
        return pa.schema(fields, metadata={b"pandas": json.dumps(metadata).encode()})


def unified(found: Mapping[pa.DataType, tuple[pa.Field, Any]]) -> pa.Field | None:
    """One field for the types a column has in different chunks (missing values take the
    others' type, integers widen to floats), or None when they have none in common."""
    if not found:
        return None
    try:
        return pa.unify_schemas(
            [pa.schema([each]) for each, _ in found.values()], promote_options="permissive"
        ).field(0)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return None


def primary_rows(
    raw_table: tables.TableChunks, kept: list[str], ingest: Ingest, layout: Layout
) -> tables.TableChunks:
    """The primary table's rows, read from the raw table as they are asked for."""

    def read(wanted: list[str] | None) -> Iterator[pd.DataFrame]:
        for chunk in raw_table.chunks(kept):
            rows, _ = ingest.marked(chunk)
            rows = rows.loc[layout.keep[chunk.index.to_numpy()]]
            if rows.empty:
                continue
            rows = ingest.normalised(rows, layout.conversions)
            yield rows if wanted is None else rows[wanted]

    return tables.TableChunks(
        columns=tuple(ingest.columns()), read=read, num_rows=layout.num_rows, schema=layout.schema
    )
