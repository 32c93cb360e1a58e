"""Synthetic image columns (``synthetic.py``): a circle or square on a grey background, its
colour a term of the hidden score.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from PIL import Image, ImageDraw


def _png(rng: np.random.Generator, size: int, colour: tuple[int, ...], spec) -> bytes:
    background = int(rng.integers(*spec["background_range"]))
    image = Image.new("RGB", (size, size), (background,) * 3)
    extent = int(rng.integers(size // 3, size // 2 + 1))
    left, top = (int(v) for v in rng.integers(0, size - extent, size=2))
    shape = ImageDraw.Draw(image).ellipse if rng.random() < 0.5 else ImageDraw.Draw(image).rectangle
    shape((left, top, left + extent, top + extent), fill=colour)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def synthetic_column(
    rng: np.random.Generator, column: str, position: int, rows: int, spec: Mapping[str, Any]
) -> tuple[pd.Series, np.ndarray]:
    """PNG bytes of a circle or square of one of ``colours``, each colour with its effect."""
    colours = [tuple(int(c) for c in colour) for colour in spec["colours"]]
    effects = np.asarray(spec["colour_effects"], dtype=float)
    codes = rng.integers(0, len(colours), size=rows)
    images = [_png(rng, int(spec["size"]), colours[code], spec) for code in codes]
    return pd.Series(images, dtype=object), effects[codes]
