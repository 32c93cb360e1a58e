"""Fitting the modalities' preprocessors as the features pipeline fits them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from multimodal_keras.modalities import MODALITIES
from multimodal_keras.modalities.base import candidate_columns
from multimodal_keras.pipelines.features.nodes import fit_preprocessor_for
from multimodal_keras.targets import TargetEncoder


def reads_targets(name: str) -> bool:
    """Whether the modality's fit reads the training rows' targets (``READS_TARGETS``)."""
    return getattr(MODALITIES[name], "READS_TARGETS", False)


def column_sources(name: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """The parameter blocks of the modalities whose columns ``name`` may choose among
    (``COLUMNS_FROM``), by modality name, as its fit node reads them."""
    return {source: params[source] for source in getattr(MODALITIES[name], "COLUMNS_FROM", ())}


def given_candidates(name: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """``candidates=`` for the fit of a modality that may choose other modalities' columns,
    as its fit node gives them."""
    sources = column_sources(name, params)
    return {"candidates": candidate_columns(name, params[name], sources)} if sources else {}


def fit_on_rows(name: str, rows: pd.DataFrame, options: Mapping[str, Any], target: str) -> Any:
    """``name``'s preprocessor fitted on every row of ``rows``; a modality that reads the
    targets gets the ``target`` column as class indices in order of appearance."""
    given = {"targets": pd.factorize(rows[target])[0]} if reads_targets(name) else {}
    return MODALITIES[name].fit(rows, options, **given)


def fit_all(params: Mapping[str, Any], rows: pd.DataFrame) -> dict[str, Any]:
    """Every modality's preprocessor fitted on every row of ``rows`` (``fit_on_rows``)."""
    target = params["table"]["target"]
    return {name: fit_on_rows(name, rows, params[name], target) for name in MODALITIES}


def fit_preprocessors(
    primary: Any,
    assignments: Any,
    params: Mapping[str, Any],
    target_encoder: TargetEncoder,
    names: Any = MODALITIES,
) -> dict[str, Any]:
    """The features pipeline's ``fit_<modality>_preprocessor`` nodes, run in memory: each
    modality in ``names`` fitted on the training rows, with the encoded targets where it
    reads them."""
    return {
        name: fit_preprocessor_for(name)(
            primary,
            assignments,
            params[name],
            params["processing"],
            params["seed"],
            **({"target_encoder": target_encoder} if reads_targets(name) else {}),
            **column_sources(name, params),
        )
        for name in names
    }
