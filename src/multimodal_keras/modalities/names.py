"""The registered modalities' names, importable without loading any modality.

A modality's name is its parameter block (``categorical:``), its tower's key
(``model.towers.categorical``), the namespace of its datasets (``categorical.features``)
and the name of its module in this folder. ``MODALITY_NAMES`` is the registry's order:
the features pipelines, the model's inputs and the baseline's features follow it.

Nothing here imports TensorFlow, so ``kedro init-env`` (``drafting.py``) can name the
modalities and stay quick.
"""

from __future__ import annotations

CATEGORICAL, NUMERICAL, TEXT, IMAGE = "categorical", "numerical", "text", "image"
NEIGHBOURS = "neighbours"

MODALITY_NAMES = (CATEGORICAL, NUMERICAL, TEXT, IMAGE, NEIGHBOURS)
