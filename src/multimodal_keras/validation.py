"""Checks a table against the configured columns before anything is fitted on it."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from multimodal_keras.errors import MultimodalKerasError
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
            if name in seen:
                raise MultimodalKerasError(
                    f"Column {name!r} is configured under both {seen[name]} and {role}; "
                    "keep it under one modality."
                )
            seen[name] = role
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
    return table


def with_row_ids(table: pd.DataFrame, id_column: str | None) -> pd.DataFrame:
    """The table with a stable ``row_id`` first: the id column when set, else the row position."""
    if ROW_ID in table.columns and id_column != ROW_ID:
        raise MultimodalKerasError(
            f"The table already has a column named {ROW_ID!r}; rename it, or set "
            f"table.id_column to {ROW_ID!r} to use it as the row id."
        )
    if id_column:
        ids = table[id_column]
        duplicates = ids[ids.duplicated()].unique()[:5]
        if len(duplicates) or ids.isna().any():
            raise MultimodalKerasError(
                f"The id column {id_column!r} must be unique and present in every row "
                f"(duplicates include {list(duplicates)}); fix it or unset table.id_column."
            )
        row_ids = ids.to_numpy()
    else:
        row_ids = np.arange(len(table), dtype=np.int64)
    table = table.drop(columns=[ROW_ID], errors="ignore")
    table.insert(0, ROW_ID, row_ids)
    return table.reset_index(drop=True)


def drop_missing_target(table: pd.DataFrame, target: str, policy: str) -> pd.DataFrame:
    """Drop rows without a target value (logged), or stop, as the policy says."""
    missing = table[target].isna()
    if missing.all():
        raise MultimodalKerasError(
            f"The target column {target!r} is empty in every row; "
            "point table.target at the column that holds the labels."
        )
    if not missing.any():
        return table
    if policy != DROP:
        shown = table.loc[missing, ROW_ID].head(EXAMPLES).tolist()
        raise MultimodalKerasError(
            f"{int(missing.sum())} row(s) have no value in target column {target!r} "
            f"(row ids {shown}...); fill them, or set table.missing_target to 'drop'."
        )
    logger.warning(
        "Dropped %d of %d rows with no value in target column %r.",
        int(missing.sum()),
        len(table),
        target,
    )
    return table.loc[~missing].reset_index(drop=True)


def check_not_empty(table: pd.DataFrame, table_name: str) -> None:
    """Raise when the table has no rows."""
    if table.empty:
        raise MultimodalKerasError(
            f"The {table_name} has no rows; point it in the catalog at a table with data."
        )


def plain(value: Any) -> Any:
    """A numpy scalar as the Python value it holds, for messages (``1``, not ``np.int64(1)``)."""
    return value.item() if isinstance(value, np.generic) else value


def check_target_values(table: pd.DataFrame, target: str, task: str | None) -> None:
    """Raise when target values cannot be learnt: an infinite number, or a value that is
    not a number under ``table.task: regression``.
    """
    values = table[target]
    numbers = pd.to_numeric(values, errors="coerce")
    if task == REGRESSION:
        bad = values.notna() & numbers.isna()
        if bad.any():
            shown = [f"row {row}: {plain(value)!r}" for row, value in _examples(table, bad, target)]
            raise MultimodalKerasError(
                f"table.task is regression, but the target column {target!r} holds "
                f"{int(bad.sum())} value(s) that are not numbers ({'; '.join(shown)}); fix "
                "them, or set table.task to multiclass."
            )
    infinite = np.isinf(numbers.to_numpy(dtype=float, na_value=np.nan))
    if infinite.any() and (task == REGRESSION or pd.api.types.is_numeric_dtype(values)):
        mask = pd.Series(infinite, index=table.index)
        shown = [f"row {row}: {plain(value)!r}" for row, value in _examples(table, mask, target)]
        raise MultimodalKerasError(
            f"The target column {target!r} holds {int(infinite.sum())} infinite value(s) "
            f"({'; '.join(shown)}); fix them in the table or remove those rows."
        )


def _examples(table: pd.DataFrame, mask: pd.Series, column: str) -> list[tuple[Any, Any]]:
    """The row id and value of the first few rows ``mask`` marks."""
    picked = table.loc[mask, [ROW_ID, column]].head(EXAMPLES)
    return list(zip(picked[ROW_ID], picked[column], strict=True))


def check_target_varies(table: pd.DataFrame, target: str) -> None:
    """Raise when every row has the same target value: there is nothing to learn."""
    values = table[target].dropna().unique()
    if len(values) < 2:
        raise MultimodalKerasError(
            f"The target column {target!r} has one value only ({plain(values[0])!r}); a model "
            "needs at least two classes, or varying values for regression: check table.target."
        )


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


def drop_invalid_rows(
    table: pd.DataFrame, modality_params: Mapping[str, Mapping[str, Any]]
) -> pd.DataFrame:
    """Stop on, or drop and count, the rows a modality cannot use, as each modality says."""
    for name, options in modality_params.items():
        if not configured_columns(options):
            continue
        reasons = MODALITIES[name].invalid_rows(table, options)
        if reasons.empty:
            continue
        if options.get("invalid_rows", "error") != DROP:
            raise MultimodalKerasError(
                f"{_unusable(name, reasons)}; fix them, or set {name}.invalid_rows to 'drop' "
                "to leave such rows out."
            )
        logger.warning(
            "Dropped %d of %d rows with unusable %s values (first: row %s, %s).",
            len(reasons),
            len(table),
            name,
            reasons.index[0],
            reasons.iloc[0],
        )
        table = table.loc[~table[ROW_ID].isin(reasons.index)].reset_index(drop=True)
    return table


def _unusable(modality: str, reasons: pd.Series) -> str:
    """How many rows a modality cannot use, and why for the first few, by row id."""
    shown = "; ".join(f"row {row}: {why}" for row, why in reasons.head(EXAMPLES).items())
    return f"{len(reasons)} row(s) have {modality} values that cannot be used ({shown})"


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


def validate(
    raw_table: pd.DataFrame,
    table_params: Mapping[str, Any],
    group_column: str | None,
    modality_params: Mapping[str, Mapping[str, Any]],
    markers: Mapping[str, list[str]] | None = None,
) -> pd.DataFrame:
    """The primary table: ``row_id``, then the configured columns, unusable rows handled.

    Cells holding one of their column's ``markers`` (``missing_values.resolve``) are
    missing values before anything else looks at them. Rows without a target and rows a
    modality cannot use are dropped or stop the run, as configured; every other problem
    stops the run with one message.
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
    check_columns(raw_table, {**features, **extra}, "raw table")
    check_marker_columns(raw_table, table_params)
    check_not_empty(raw_table, "raw table")
    kept = [column for columns in (*features.values(), *extra.values()) for column in columns]
    primary = with_row_ids(raw_table[list(dict.fromkeys(kept))], id_column)
    primary = read_markers_as_missing(primary, markers or {}, features, "raw table")
    primary = drop_missing_target(primary, target, table_params.get("missing_target", DROP))
    check_target_values(primary, target, table_params.get("task"))
    check_target_varies(primary, target)
    primary = drop_invalid_rows(primary, modality_params)
    check_not_empty(primary, "table left after dropping unusable rows")
    return normalise_types(primary, features)
