"""The modality registry: a modality's name in the configuration maps to its module.

Adding a modality is adding one module that implements ``base.Modality`` and one line here.
"""

from __future__ import annotations

from multimodal_keras.modalities import categorical, image, numerical, text
from multimodal_keras.modalities.base import Modality

MODALITIES: dict[str, Modality] = {
    "categorical": categorical,
    "numerical": numerical,
    "text": text,
    "image": image,
}

__all__ = ["MODALITIES", "Modality"]
