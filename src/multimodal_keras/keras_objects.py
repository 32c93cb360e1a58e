"""Every custom Keras object the project saves in a ``.keras`` model, registered.

Keras finds a saved model's own layers and losses by the names their modules register when
imported. A process that never ran the project (a notebook, a script) imports this module
before ``keras.models.load_model``; the project's ``TensorFlowModelDataset`` imports it
before it loads. ``MODULES`` lists each module that registers objects (a test checks it
against the source).
"""

from __future__ import annotations

from multimodal_keras import missing_values
from multimodal_keras.modalities import categorical, neighbours, numerical, text, text_scores
from multimodal_keras.modalities.image import decoding, tower
from multimodal_keras.model import ensemble, serving, train

MODULES = (
    missing_values,
    categorical,
    numerical,
    text,
    text_scores,
    neighbours,
    decoding,
    tower,
    ensemble,
    serving,
    train,
)
