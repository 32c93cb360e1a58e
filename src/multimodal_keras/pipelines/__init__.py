"""The project's Kedro pipelines, and the one naming rule they share for modality datasets."""

from collections.abc import Mapping
from typing import Any

import pandas as pd

from multimodal_keras.modalities import MODALITIES
from multimodal_keras.splitting import check_fitted_on


def per_modality(template: str) -> dict[str, str]:
    """Node inputs keyed by modality: ``per_modality("{}.features")`` maps each registered
    modality to its ``<modality>.features`` dataset, so a new modality is wired everywhere."""
    return {name: template.format(name) for name in MODALITIES}


def check_fitted_on_split(
    split_assignments: pd.DataFrame,
    preprocessors: Mapping[str, Any],
    target_encoder: Any | None = None,
) -> None:
    """Stop when ``<modality>.preprocessor`` or ``target_encoder`` was fitted on other
    training rows than ``split_assignments`` holds (``splitting.check_fitted_on``)."""
    fitted = {f"{name}.preprocessor": value for name, value in preprocessors.items()}
    if target_encoder is not None:
        fitted["target_encoder"] = target_encoder
    check_fitted_on(split_assignments, fitted)
