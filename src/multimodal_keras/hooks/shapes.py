"""Short descriptions of what a node read and wrote, from each value's own shape or size.

A value is described by what it is (a model, an array or table, a mapping, a string, a
sequence), never by which modality or dataset it comes from.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def shape_of(value: Any) -> str:
    """A short description of a node's input or output: its rows and shape where it has them."""
    if value is None:
        return "nothing"  # an optional input with nothing saved yet
    if hasattr(value, "count_params") and hasattr(value, "inputs"):
        return f"model of {value.count_params():,} parameters"
    shape = getattr(value, "shape", None)
    if isinstance(shape, tuple):
        return "x".join(str(size) for size in shape)
    if isinstance(value, Mapping):
        return f"{len(value)} entries"
    if isinstance(value, str):
        return f"{len(value):,} characters"
    if isinstance(value, list | tuple):
        return f"{len(value)} items"
    return type(value).__name__


def describe_data(data: Mapping[str, Any]) -> dict[str, str]:
    """Shapes of the datasets a node read or wrote, leaving out parameters."""
    return {
        name: shape_of(value)
        for name, value in data.items()
        if not name.startswith("params:") and name != "parameters"
    }
