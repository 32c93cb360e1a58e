"""The modality registry: a modality's name in the configuration maps to its module.

Adding a modality is adding one module that implements ``base.Modality``, named as the
modality, and its name in ``names.MODALITY_NAMES``. The modules are imported when
``MODALITIES`` is first read, so that ``names`` (no TensorFlow) can be imported alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from importlib import import_module
from typing import TYPE_CHECKING, Any

from multimodal_keras.modalities.names import MODALITY_NAMES

if TYPE_CHECKING:
    from multimodal_keras.modalities.base import Modality

    MODALITIES: dict[str, Modality]


@cache
def registry() -> dict[str, Modality]:
    """Each registered modality's module by name, in ``MODALITY_NAMES`` order."""
    return {name: import_module(f"{__name__}.{name}") for name in MODALITY_NAMES}


def __getattr__(name: str) -> Any:
    if name == "MODALITIES":
        return registry()
    if name == "Modality":
        return import_module(f"{__name__}.base").Modality
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def active(preprocessors: Mapping[str, Any]) -> dict[str, Any]:
    """The fitted preprocessors of the modalities in use, by name, in the given order."""
    modules = registry()
    return {
        name: preprocessor
        for name, preprocessor in preprocessors.items()
        if modules[name].is_active(preprocessor)
    }


__all__ = ["MODALITIES", "MODALITY_NAMES", "Modality", "active", "registry"]
