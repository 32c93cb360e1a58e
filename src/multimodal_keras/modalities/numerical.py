"""Numerical columns: impute missing values, then scale, with scikit-learn."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import keras
import numpy as np
import pandas as pd
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, MinMaxScaler, RobustScaler, StandardScaler

from multimodal_keras.errors import MultimodalKerasError
from multimodal_keras.modalities.base import (
    ROW_ID,
    configured_columns,
    dense_block,
    encoded_frame,
    feature_values,
)

logger = logging.getLogger(__name__)

SCALERS = {
    "standard": StandardScaler,
    "minmax": MinMaxScaler,
    "robust": RobustScaler,
    "none": lambda: FunctionTransformer(feature_names_out="one-to-one"),
}


@dataclass
class NumericalPreprocessor:
    """Imputer and scaler fitted on the training rows."""

    columns: list[str]
    pipeline: Pipeline | None

    @property
    def output_names(self) -> list[str]:
        if self.pipeline is None:
            return []
        return list(self.pipeline.get_feature_names_out())


def blank_as_missing(values: pd.Series) -> pd.Series:
    """Empty or blank strings in a numerical column mean a missing value."""
    if pd.api.types.is_numeric_dtype(values):
        return values
    return values.mask(values.astype("string").str.strip().eq("").fillna(False).astype(bool))


def as_float_frame(rows: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """The configured columns as float64, missing values as NaN."""
    frame = rows[columns].apply(blank_as_missing)
    try:
        return frame.apply(pd.to_numeric).astype("float64")
    except (TypeError, ValueError) as error:
        raise MultimodalKerasError(
            f"A numerical column holds values that are not numbers ({error}); "
            "clean the column or configure it as categorical."
        ) from error


def fit(train_rows: pd.DataFrame, options: Mapping[str, Any]) -> NumericalPreprocessor:
    """Fit the imputer and scaler on the training rows' numerical columns."""
    columns = configured_columns(options)
    if not columns:
        return NumericalPreprocessor(columns=[], pipeline=None)
    imputer = SimpleImputer(
        strategy=options["imputation"],
        add_indicator=bool(options.get("add_missing_indicator", False)),
        keep_empty_features=True,
    )
    pipeline = Pipeline([("impute", imputer), ("scale", SCALERS[options["scaling"]]())])
    train = as_float_frame(train_rows, columns)
    # Overflow is reported below as one clear error, not as numpy warnings.
    with np.errstate(over="ignore", invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        scaled = pipeline.fit_transform(train).astype(np.float32)
    finite = np.isfinite(scaled[:, : len(columns)]).all(axis=0)
    broken = [name for name, ok in zip(columns, finite, strict=True) if not ok]
    if broken:
        raise MultimodalKerasError(
            f"Scaling numerical column(s) {broken} overflows (the largest magnitude is "
            f"{np.nanmax(np.abs(train[broken].to_numpy())):.3g}); rescale them in the table, "
            "for example with a logarithm, or set numerical.scaling to robust or none."
        )
    return NumericalPreprocessor(columns=columns, pipeline=pipeline)


def transform(preprocessor: NumericalPreprocessor, rows: pd.DataFrame) -> pd.DataFrame:
    """Impute and scale every row with the training statistics."""
    if preprocessor.pipeline is None:
        return encoded_frame(rows[ROW_ID], np.zeros((len(rows), 0), dtype=np.float32), [])
    values = preprocessor.pipeline.transform(as_float_frame(rows, preprocessor.columns))
    limit = float(np.finfo(np.float32).max)
    outside = np.abs(values) > limit
    if outside.any():
        logger.warning(
            "%d scaled numerical value(s) exceed float32's range and are clipped to it.",
            int(outside.sum()),
        )
    values = np.clip(values, -limit, limit).astype(np.float32)
    return encoded_frame(rows[ROW_ID], values, preprocessor.output_names)


def model_input(encoded: pd.DataFrame) -> np.ndarray:
    """The scaled values as float32."""
    return feature_values(encoded, np.float32)


def build_tower(
    name: str, preprocessor: NumericalPreprocessor, tower: Mapping[str, Any]
) -> tuple[keras.KerasTensor, keras.KerasTensor]:
    """Dense layers over the scaled values."""
    inputs = keras.Input(shape=(len(preprocessor.output_names),), name=name, dtype="float32")
    return inputs, dense_block(inputs, list(tower["units"]), float(tower["dropout"]), name)


def describe(preprocessor: NumericalPreprocessor) -> dict[str, Any]:
    """Training statistics per column: imputation value, and scaler centre and scale."""
    if preprocessor.pipeline is None:
        return {"columns": []}
    imputer = preprocessor.pipeline.named_steps["impute"]
    scaler = preprocessor.pipeline.named_steps["scale"]
    summary: dict[str, Any] = {
        "columns": preprocessor.columns,
        "imputation_values": dict(
            zip(preprocessor.columns, map(float, imputer.statistics_), strict=True)
        ),
    }
    for attribute in ("mean_", "scale_", "center_", "data_min_", "data_max_"):
        if hasattr(scaler, attribute):
            values = getattr(scaler, attribute)
            summary[attribute.rstrip("_")] = [float(value) for value in values]
    return summary


def invalid_rows(rows: pd.DataFrame, options: Mapping[str, Any]) -> pd.Series:
    """Rows whose numerical cells hold something other than a number or a missing value."""
    reasons = pd.Series(dtype="string", index=pd.Index([], name=ROW_ID))
    for column in configured_columns(options):
        values = blank_as_missing(rows[column])
        numbers = pd.to_numeric(values, errors="coerce")
        bad = (numbers.isna() & values.notna()) | np.isinf(numbers)
        found = pd.Series(
            [f"{column}={value!r} is not a finite number" for value in values[bad]],
            index=pd.Index(rows.loc[bad, ROW_ID], name=ROW_ID),
            dtype="string",
        )
        reasons = pd.concat([reasons, found[~found.index.isin(reasons.index)]])
    return reasons
