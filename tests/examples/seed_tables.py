"""The seed's three example tables, five rows each, with the seed's own values.

The image table's photos are random 64x64 RGB PNGs, as in the seed, drawn from a fixed
generator so that every run sees the same bytes.
"""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
from PIL import Image

IMAGE_SIZE = 64
IMAGE_SEED = 0

# Example 1: categorical and numerical inputs.
CATEGORICAL_NUMERICAL = {
    "location": ["New York", "London", "Tokyo", "New York", "London"],
    "membership_type": ["premium", "basic", "premium", "basic", "premium"],
    "age": [25, 30, 40, 22, 35],
    "income": [60000, 75000, 120000, 55000, 90000],
    "target": [0, 1, 1, 0, 1],
}

# Example 2: text and numerical inputs.
TEXT_NUMERICAL = {
    "user_text": [
        "I love this product",
        "it was okay",
        "terrible experience",
        "amazing result",
        "not so great",
    ],
    "purchase_count": [10, 2, 1, 15, 5],
    "target": [1, 0, 0, 1, 0],
}

# Example 3: image and numerical inputs; the images are added by ``image_numerical``.
IMAGE_NUMERICAL = {
    "size": [10, 2, 5, 12, 3],
    "target": [1, 0, 0, 1, 1],
}

# Which columns each table's run configures, by modality.
COLUMNS = {
    "categorical_numerical": {
        "categorical": ["location", "membership_type"],
        "numerical": ["age", "income"],
        "text": [],
        "image": [],
    },
    "text_numerical": {
        "categorical": [],
        "numerical": ["purchase_count"],
        "text": ["user_text"],
        "image": [],
    },
    "image_numerical": {
        "categorical": [],
        "numerical": ["size"],
        "text": [],
        "image": ["image_bytes"],
    },
}
TARGET = "target"


def random_png(rng: np.random.Generator, size: int = IMAGE_SIZE) -> bytes:
    """A PNG of random RGB noise, like the seed's dummy images."""
    pixels = rng.integers(0, 256, size=(size, size, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


def categorical_numerical() -> pd.DataFrame:
    return pd.DataFrame(CATEGORICAL_NUMERICAL)


def text_numerical() -> pd.DataFrame:
    return pd.DataFrame(TEXT_NUMERICAL)


def image_numerical() -> pd.DataFrame:
    rng = np.random.default_rng(IMAGE_SEED)
    images = [random_png(rng) for _ in IMAGE_NUMERICAL["target"]]
    return pd.DataFrame({"image_bytes": images, **IMAGE_NUMERICAL})


TABLES = {
    "categorical_numerical": categorical_numerical,
    "text_numerical": text_numerical,
    "image_numerical": image_numerical,
}
