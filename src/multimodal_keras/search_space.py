"""The search space of ``kedro run --pipelines tuning``: its schema, its check, its settings.

``tuning.space`` (conf/base/parameters_tuning.yml) maps dotted parameter paths, the same
paths ``--params`` takes (``training.learning_rate``, ``model.towers.text.encoder``), to
how the search draws them: ``choice`` among ``values``, ``int`` or ``float`` between
``min`` and ``max`` (on a grid of ``step`` when given), or ``log_float`` (evenly on a log
scale). An entry set to null is not searched: the run's own value stays.

Only ``model.*`` and ``training.*`` settings can be searched: every trial trains on the
features the preprocessors wrote, so a setting fitted into a preprocessor (a modality's
block, the table, the split) would need them refitted and is refused. Each entry is
checked against the parameters' own schema (parameters.py): every value a choice lists,
both ends of a range and a value within it must be values the parameter may take.

This module needs no TensorFlow: the parameter check of every run imports it.
"""

from __future__ import annotations

import copy
import difflib
import json
from collections.abc import Iterator, Mapping
from functools import cache
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ValidationError, create_model, model_validator

from multimodal_keras.errors import MultimodalKerasError
from multimodal_keras.options import Options, Positive, PositiveFloat

SEARCHABLE = ("model", "training")
CHOICE, INT, FLOAT, LOG_FLOAT = "choice", "int", "float", "log_float"
# Settings of `training` that say how a run is watched, where it runs or what it prints,
# not what is trained; each with the reason a user reads when an entry names it.
NOT_SEARCHABLE = {
    "training.monitor": "it is the validation metric every trial is scored on",
    "training.distribution": "it says where training runs, not what is trained",
    "training.deterministic": "every trial trains deterministically, so that one seed "
    "gives one search",
    "training.verbose": "it changes what training prints only",
    "training.use_tuned": "it chooses whether a run reads the search's result",
}
ENTRY_FILE = "conf/<env>/parameters_tuning.yml"
# The key of the whole parameters mapping under which a run records the tuned settings it
# trained with (hooks.TunedParameterHooks); metrics.json and the run report show it.
TUNED_RECORD = "tuned_parameters"
# The trials table's own columns (tuning_trials); each of its other columns is a setting.
TRIAL_COLUMNS = ("trial", "status", "metric", "direction", "score", "epochs", "seconds")


class SearchEntry(Options):
    """How the search draws one setting.

    A choice reads ``values``, a range ``min``, ``max`` and (for ``int`` and ``float``)
    ``step``; the other keys are ignored, since an environment's entry merges with
    conf/base's key by key (turning a range into a choice leaves ``min`` and ``max`` there).
    """

    kind: Literal["choice", "int", "float", "log_float"]
    values: list[Any] | None = None
    min: float | None = None
    max: float | None = None
    step: PositiveFloat | None = None

    @model_validator(mode="after")
    def complete(self) -> SearchEntry:
        if self.kind == CHOICE:
            if not self.values:
                raise ValueError("a choice needs a non-empty list of values")
            return self
        if self.min is None or self.max is None or not self.min < self.max:
            raise ValueError(f"kind {self.kind} needs min and max, with min below max")
        if self.kind == LOG_FLOAT and self.min <= 0:
            raise ValueError("kind log_float needs min above 0")
        whole = [v for v in (self.min, self.max, self.step) if v is not None]
        if self.kind == INT and not all(float(v).is_integer() for v in whole):
            raise ValueError("kind int needs whole numbers for min, max and step")
        return self

    def drawn(self) -> dict[str, Any]:
        """The keys this kind reads, with their values."""
        if self.kind == CHOICE:
            return {"kind": self.kind, "values": self.values}
        step = None if self.kind == LOG_FLOAT else self.step
        return {"kind": self.kind, "min": self.min, "max": self.max, "step": step}

    def checked_values(self) -> Iterator[tuple[str, Any]]:
        """(what it is, value) for every value the check tries against the parameter."""
        if self.kind == CHOICE:
            for value in self.values or []:
                yield f"value {value!r}", value
            return
        low, high = float(self.min or 0), float(self.max or 0)
        if self.kind == INT:
            yield f"min {int(low)}", int(low)
            yield f"max {int(high)}", int(high)
            return
        yield f"min {low:g}", low
        yield f"max {high:g}", high


class Tuning(Options):
    """``tuning``: the search's algorithm, its limits, where it keeps its state, its space."""

    algorithm: Literal["random", "bayesian"]
    max_trials: Positive | None
    budget_minutes: PositiveFloat | None
    directory: str
    max_consecutive_failed_trials: Positive
    space: dict[str, SearchEntry | None]

    @model_validator(mode="after")
    def has_a_limit(self) -> Tuning:
        if self.max_trials is None and self.budget_minutes is None:
            raise ValueError("max_trials, budget_minutes or both must be set, so that it ends")
        return self


# ---------------------------------------------------------------------------------------
# Dotted paths


def lookup(blocks: Mapping[str, Any], path: str) -> tuple[bool, Any]:
    """(found, value) of a dotted path in nested mappings."""
    node: Any = blocks
    for part in path.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return False, None
        node = node[part]
    return True, node


def with_setting(blocks: Mapping[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A deep copy of ``blocks`` with the dotted path set to ``value``."""
    changed = copy.deepcopy(dict(blocks))
    *parents, last = path.split(".")
    node = changed
    for part in parents:
        node = node[part]
    node[last] = copy.deepcopy(value)
    return changed


def with_settings(blocks: Mapping[str, Any], settings: Mapping[str, Any]) -> dict[str, Any]:
    """A deep copy of ``blocks`` with every dotted setting applied."""
    changed = copy.deepcopy(dict(blocks))
    for path, value in settings.items():
        changed = with_setting(changed, path, value)
    return changed


def nested(settings: Mapping[str, Any]) -> dict[str, Any]:
    """Dotted settings as nested mappings, as a parameters file reads."""
    tree: dict[str, Any] = {}
    for path, value in sorted(settings.items()):
        *parents, last = path.split(".")
        node = tree
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = value
    return tree


def flattened(tree: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested mappings as dotted paths to their leaves (the inverse of ``nested``)."""
    leaves: dict[str, Any] = {}
    for key, value in tree.items():
        path = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            leaves |= flattened(value, f"{path}.")
        else:
            leaves[path] = value
    return leaves


def leaf_paths(blocks: Mapping[str, Any]) -> list[str]:
    """Every dotted path of the searchable blocks, blocks included."""
    paths: list[str] = []

    def walk(node: Any, prefix: str) -> None:
        if isinstance(node, Mapping):
            for key, value in node.items():
                paths.append(f"{prefix}{key}")
                walk(value, f"{prefix}{key}.")

    walk(blocks, "")
    return paths


# ---------------------------------------------------------------------------------------
# The check of the space against the parameters' schema


@cache
def searchable_schema() -> type[BaseModel]:
    """The parameters' schema of ``model`` and ``training`` alone."""
    from multimodal_keras.parameters import schema

    fields = schema().model_fields
    return create_model(
        "SearchableBlocks",
        __base__=Options,
        **{name: (fields[name].annotation, ...) for name in SEARCHABLE},
    )


def schema_problems(blocks: Mapping[str, Any], path: str) -> list[str]:
    """The parameter check's sentences about ``path`` (or inside it) in these blocks."""
    from multimodal_keras.parameters import describe

    try:
        searchable_schema().model_validate(dict(blocks))
    except ValidationError as error:
        found = describe(error, blocks)
        return [s for s in found if f"`{path}`" in s or f"`{path}." in s] or found
    return []


def refuse(path: str, why: str) -> MultimodalKerasError:
    """The one sentence for an entry of ``tuning.space`` that cannot be searched."""
    return MultimodalKerasError(
        f"`tuning.space` entry `{path}` {why}; change or remove it in {ENTRY_FILE}."
    )


def not_a_setting(path: str, blocks: Mapping[str, Any]) -> MultimodalKerasError:
    """The sentence for a path that names no searchable parameter."""
    from multimodal_keras.modalities import MODALITIES

    root = path.split(".", maxsplit=1)[0]
    if root in MODALITIES:
        return refuse(
            path,
            f"is fitted into the {root} preprocessor, and every trial trains on the features "
            "it wrote, so it cannot be searched (only `model.*` and `training.*` settings "
            f"can; to try a value, refit with `kedro run --params {path}=VALUE`)",
        )
    if root not in SEARCHABLE:
        return refuse(
            path, "is not a model or training setting (only `model.*` and `training.*` "
            "settings can be searched)"
        )  # fmt: skip
    close = difflib.get_close_matches(path, leaf_paths(blocks), n=1, cutoff=0.6)
    hint = f" (did you mean `{close[0]}`?)" if close else ""
    return refuse(path, f"is not a parameter this project reads{hint}")


def check_entry(path: str, entry: SearchEntry, blocks: Mapping[str, Any]) -> None:
    """Raise one sentence when the entry cannot be searched; return when it can."""
    for blocked, why in NOT_SEARCHABLE.items():
        if path == blocked or path.startswith(f"{blocked}."):
            raise refuse(path, f"cannot be searched: {why}")
    found, _ = lookup(blocks, path)
    if not found:
        raise not_a_setting(path, blocks)
    for what, value in entry.checked_values():
        problems = schema_problems(with_setting(blocks, path, value), path)
        if problems:
            raise refuse(path, f"({what}) is not a value the parameter may take: {problems[0]}")
    if entry.kind in (FLOAT, LOG_FLOAT):
        within = float(np.nextafter(entry.min, entry.max))  # a value with a fraction
        if schema_problems(with_setting(blocks, path, within), path):
            raise refuse(path, "takes whole numbers or named values: declare it as kind int or "
                               "choice")  # fmt: skip


def check_space(
    space: Mapping[str, Any], model: Mapping[str, Any], training: Mapping[str, Any]
) -> dict[str, SearchEntry]:
    """The entries to search, each checked against the parameter it sets.

    Args:
        space: ``tuning.space``: dotted path to an entry (a mapping, or null: not searched).
        model: ``params:model``.
        training: ``params:training``.

    Returns:
        The searched entries by dotted path, in the order of ``space``.

    Raises:
        MultimodalKerasError: One sentence about the first entry that cannot be searched.
    """
    blocks = {"model": model, "training": training}
    entries: dict[str, SearchEntry] = {}
    for path, raw in space.items():
        if raw is None:
            continue
        try:
            entry = raw if isinstance(raw, SearchEntry) else SearchEntry.model_validate(raw)
        except ValidationError as error:
            from multimodal_keras.parameters import reason

            first = error.errors(include_url=False)[0]
            place = ".".join(str(part) for part in first["loc"])
            what = f"`{place}` must be {reason(first)}" if place else reason(first)
            raise refuse(path, f"is not a search entry: {what}") from None
        check_entry(path, entry, blocks)
        entries[path] = entry
    if not entries:
        raise MultimodalKerasError(
            f"`tuning.space` has no entry to search (every one is null); give at least one "
            f"setting a choice or a range in {ENTRY_FILE}."
        )
    return entries


def describe_value(value: Any) -> str:
    """A setting's value as it reads in YAML and in tables: lists as ``[128, 64]``."""
    if isinstance(value, str):
        return value
    return json.dumps(value)


def setting_columns(trials: Any) -> list[str]:
    """The columns of a trials table that hold searched settings, in their order."""
    return [column for column in trials.columns if column not in TRIAL_COLUMNS]
