"""Replacing catalog entries during a run: a non-chief worker's outputs held in memory, the
tuned parameters put in place, without the data catalog's warning for each."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from kedro.io import MemoryDataset
from kedro.pipeline import Pipeline

from multimodal_keras import integrity


class QuietReplacements(logging.Filter):
    """Drops the data catalog's warning that a dataset is being replaced."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("Replacing dataset")


@contextmanager
def quiet_replacements() -> Iterator[None]:
    """Within it, the data catalog replaces datasets without a warning for each."""
    catalog_logger = logging.getLogger("kedro.io.data_catalog")
    quiet = QuietReplacements()
    catalog_logger.addFilter(quiet)
    try:
        yield
    finally:
        catalog_logger.removeFilter(quiet)


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
