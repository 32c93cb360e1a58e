"""Replacing catalog entries during a run: a non-chief worker's outputs held in memory, the
tuned parameters put in place, without the data catalog's warning for each."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import Any

from kedro.io import MemoryDataset
from kedro.pipeline import Pipeline

from multimodal_keras import integrity
from multimodal_keras.terminal import records_dropped


def quiet_replacements() -> contextlib.AbstractContextManager[None]:
    """Within it, the data catalog replaces datasets without a warning for each."""
    return records_dropped(
        "kedro.io.data_catalog", lambda message: message.startswith("Replacing dataset")
    )


def keep_outputs_in_memory(pipeline: Pipeline, catalog: Any) -> list[str]:
    """Replace every dataset the run could write with an in-memory one; their names.

    The run's free inputs still load from disk; everything else (node outputs, and what
    hooks save, such as ``run_timings``) is held in memory and written nowhere.
    """
    inputs = pipeline.inputs()
    names = sorted(
        name
        for name in set(catalog.keys()) | pipeline.all_outputs()
        if name not in inputs and not integrity.is_parameter(name)
    )
    with quiet_replacements():  # one line says it all; not a warning per dataset
        for name in names:
            # Assigned, not copied: a Keras model does not deep-copy.
            catalog[name] = MemoryDataset(copy_mode="assign")
    return names


def replace_parameters(catalog: Any, merged: Mapping[str, Any]) -> None:
    """Put ``merged`` in the catalog: ``parameters`` and every ``params:`` entry it changes."""
    from multimodal_keras.search_space import lookup

    with quiet_replacements():
        catalog["parameters"] = dict(merged)
        names = [name for name in list(catalog.keys()) if name.startswith("params:")]
        for name in names:
            found, value = lookup(merged, name.removeprefix("params:"))
            if found and value != catalog.load(name):
                catalog[name] = value
