"""The schema of every parameter block, and the check of a run's parameters against it.

Each modality module owns the schema of its block (``Options``) and of its tower
(``TowerOptions``); this module holds the project's other blocks and composes them. A run
checks its merged parameters (base, environment, ``--params``) before any node runs and
stops with one sentence per problem, all at once: unknown keys (with the nearest known
one), values of the wrong type, outside their range, or not among a setting's choices.
The values themselves live in ``conf/base/parameters*.yml``.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence
from functools import cache
from types import UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import (
    BaseModel,
    Field,
    StrictFloat,
    StrictInt,
    StrictStr,
    ValidationError,
    create_model,
    model_validator,
)

from multimodal_keras import drafting
from multimodal_keras.errors import MultimodalKerasError
from multimodal_keras.modalities import MODALITIES
from multimodal_keras.options import (
    AUTO,
    Dropout,
    Fraction,
    NonNegative,
    Options,
    Positive,
    PositiveFloat,
    Units,
)
from multimodal_keras.search_space import Tuning

CLOSE_MATCH_CUTOFF = 0.6
# A cell value that means "missing": text, or a number compared as its text (``-999``).
# Strict, so that YAML's null and booleans (an unquoted ``no``) are errors, not markers.
Marker = StrictStr | StrictInt | StrictFloat


class Table(Options):
    target: str
    task: Literal["binary", "multiclass", "regression"] | None
    max_classes: Annotated[int, Field(ge=2)]
    id_column: str | None
    missing_target: Literal["drop", "error"]
    target_transform: Literal["none", "auto", "log", "log1p"]
    target_transform_skewness: PositiveFloat
    missing_values: list[Marker]
    missing_values_per_column: dict[str, list[Marker]]


class Split(Options):
    test_fraction: Fraction
    validation_fraction: Fraction
    stratify: bool
    group_column: str | None
    seed: NonNegative | None = None

    @model_validator(mode="after")
    def leaves_training_rows(self) -> Split:
        if self.test_fraction + self.validation_fraction >= 1:
            raise ValueError(
                "test_fraction + validation_fraction must stay below 1, to leave training rows"
            )
        return self


class Dask(Options):
    address: str | None
    workers: Positive
    threads_per_worker: Positive


class Processing(Options):
    chunk_rows: Positive
    fit_rows: Positive
    executor: Literal["local", "dask"]
    dask: Dask


class LinearBaseline(Options):
    C: PositiveFloat
    alpha: PositiveFloat
    max_iter: Positive
    class_weight: Literal["balanced"] | None
    category_min_frequency: Positive
    tfidf: dict[str, Any]  # keyword arguments of TfidfVectorizer, checked by scikit-learn
    image_size: tuple[Positive, Positive]


class Baseline(Options):
    fit_rows: Positive
    gradient_boosting: dict[str, Any]  # keyword arguments, checked by scikit-learn
    linear: LinearBaseline


class Batches(Options):
    batch_size: Positive


class ModalityImportance(Options):
    repeats: Positive
    batch_size: Positive
    metric: dict[Literal["binary", "multiclass", "regression"], list[str]]


class Reporting(Options):
    title: str
    configuration: list[str]
    figure_dpi: Positive
    max_list_items: Positive


class RunLock(Options):
    wait_seconds: Annotated[float, Field(ge=0)]


class AutoBatch(Options):
    steps_per_epoch: Positive
    min: Positive
    max: Positive


class AutoWeightDecay(Options):
    with_batch_norm: Annotated[float, Field(ge=0)]
    without_batch_norm: Annotated[float, Field(ge=0)]


class LearningRateSchedule(Options):
    kind: Literal["plateau", "constant"]
    factor: Fraction | None = None  # plateau only, as the two below
    patience: Positive | None = None
    min_learning_rate: Annotated[float, Field(ge=0)] = 0.0

    @model_validator(mode="after")
    def plateau_is_complete(self) -> LearningRateSchedule:
        if self.kind == "plateau" and (self.factor is None or self.patience is None):
            raise ValueError("kind plateau needs its factor and patience")
        return self


class Distribution(Options):
    strategy: Literal["default", "mirrored", "multi_worker"]
    logical_cpus: Positive | None


class Training(Options):
    epochs: Positive
    batch_size: AUTO | Positive
    auto_batch: AutoBatch
    learning_rate: PositiveFloat
    optimizer: Literal["adamw", "adam"]
    weight_decay: AUTO | Annotated[float, Field(ge=0)]
    auto_weight_decay: AutoWeightDecay
    label_smoothing: Annotated[float, Field(ge=0, lt=1)]
    ema_momentum: Fraction | None
    ema_max_epochs: PositiveFloat | None
    batch_norm_window: Annotated[float, Field(gt=0)] | None
    monitor: Literal["auto", "val_loss", "val_accuracy", "val_auc", "val_rmse"]
    learning_rate_schedule: LearningRateSchedule
    early_stopping_patience: Positive
    early_best_epoch_warning: Annotated[int, Field(ge=0)]
    class_weight: Literal["balanced"] | dict[str | int | bool, PositiveFloat] | None
    deterministic: bool
    verbose: AUTO | Literal[0, 1, 2]
    distribution: Distribution
    use_tuned: bool


class Fusion(Options):
    units: Units
    dropout: Dropout


class Wide(Options):
    enabled: bool


ModalityName = Literal[tuple(MODALITIES)]  # type: ignore[valid-type]


class Ensemble(Options):
    members: Positive
    own_towers: list[ModalityName]


def differences(made_with: Any, current: Any, path: str) -> list[tuple[str, Any, Any]]:
    """The dotted keys under which two values of a parameter differ, with both values."""
    if isinstance(made_with, Mapping) and isinstance(current, Mapping):
        found = []
        for key in [*made_with, *(k for k in current if k not in made_with)]:
            found += differences(made_with.get(key), current.get(key), f"{path}.{key}")
        return found
    return [] if made_with == current else [(path, made_with, current)]


@cache
def schema() -> type[BaseModel]:
    """The whole parameters' schema, with each registered modality's blocks."""
    towers = create_model(
        "Towers",
        __base__=Options,
        **{name: (module.TowerOptions, ...) for name, module in MODALITIES.items()},
    )
    model = create_model(
        "Model",
        __base__=Options,
        towers=(towers, ...),
        fusion=(Fusion, ...),
        wide=(Wide, ...),
        ensemble=(Ensemble, ...),
    )
    return create_model(
        "Parameters",
        __base__=Options,
        seed=(NonNegative, ...),
        verbosity=(Literal["quiet", "verbose"], "quiet"),
        run_lock=(RunLock, ...),
        table=(Table, ...),
        split=(Split, ...),
        processing=(Processing, ...),
        demo=(dict[str, Any], ...),  # read by scripts/make_demo_table.py only
        drafting=(drafting.Options, ...),  # read by `kedro init-env` only
        source=(dict[str, Any] | None, None),  # an example table's build script's settings
        # --params that choose the inference pipeline's files (${runtime_params:...} in
        # the catalog); Kedro adds them to the parameters too.
        new_rows_file=(str | None, None),
        predictions_file=(str | None, None),
        evaluation=(Batches, ...),
        baseline=(Baseline, ...),
        inference=(Batches, ...),
        modality_importance=(ModalityImportance, ...),
        reporting=(Reporting, ...),
        model=(model, ...),
        training=(Training, ...),
        **{name: (module.Options, ...) for name, module in MODALITIES.items()},
        tuning=(Tuning, ...),
    )


def problems(parameters: Mapping[str, Any]) -> list[str]:
    """One sentence per problem of the parameters, or none."""
    try:
        schema().model_validate(dict(parameters))
    except ValidationError as error:
        return describe(error, parameters)
    return []


def describe(error: ValidationError, parameters: Mapping[str, Any]) -> list[str]:
    """Pydantic's errors as sentences: one per parameter, union branches merged."""
    by_key: dict[str, list[dict[str, Any]]] = {}
    for detail in error.errors(include_url=False):
        key = key_path(detail["loc"], parameters)
        by_key.setdefault(".".join(key), []).append({**detail, "key": key})
    return [sentence(details, parameters) for details in by_key.values()]


def key_path(location: Sequence[Any], parameters: Mapping[str, Any]) -> list[str]:
    """The parameter keys of an error's location, without pydantic's union branch names."""
    keys: list[str] = []
    node: Any = parameters
    schema_node: Any = schema()
    for part in location:
        if isinstance(node, Mapping) and part in node:
            keys.append(str(part))
            node = node[part]
            schema_node = nested_model(schema_node, str(part))
        elif isinstance(part, str) and fields_of(schema_node) and part in fields_of(schema_node):
            keys.append(part)  # a missing key
            node = None
        elif isinstance(node, list | tuple) and isinstance(part, int):
            keys.append(str(part))
            node = node[part] if part < len(node) else None
        elif not keys or isinstance(node, Mapping):
            keys.append(str(part))  # an unknown key
            node = None
    return keys


def fields_of(model: Any) -> list[str]:
    """The keys a schema model knows, or none."""
    if isinstance(model, type) and issubclass(model, BaseModel):
        return list(model.model_fields)
    return []


def nested_model(model: Any, key: str) -> Any:
    """The schema model of a key inside ``model``, when it is one."""
    if not fields_of(model) or key not in model.model_fields:
        return None
    annotation = model.model_fields[key].annotation
    for candidate in (annotation, *getattr(annotation, "__args__", ())):
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None


def sentence(details: list[dict[str, Any]], parameters: Mapping[str, Any]) -> str:
    """One problem of one parameter, as one sentence."""
    key = details[0]["key"]
    dotted = ".".join(key)
    kind = details[0]["type"]
    if kind == "extra_forbidden":
        model: Any = schema()
        for part in key[:-1]:
            model = nested_model(model, part)
        known = fields_of(model)
        close = difflib.get_close_matches(key[-1], known, n=1, cutoff=CLOSE_MATCH_CUTOFF)
        parent = ".".join(key[:-1])
        hint = f"did you mean `{'.'.join([*key[:-1], close[0]])}`?" if close else (
            f"the keys of `{parent}` are {', '.join(known)}" if parent
            else "see conf/base/parameters*.yml for the blocks there are"
        )  # fmt: skip
        return f"`{dotted}` is not a parameter this project reads ({hint})"
    if kind == "missing" and key[-1].isdigit():
        parent = ".".join(key[:-1])
        value = lookup(parameters, key[:-1])
        return f"`{parent}` is {value!r}, but it must have {int(key[-1]) + 1} items"
    if kind == "missing":
        return f"`{dotted}` is missing (conf/base sets it; was its block replaced?)"
    value = lookup(parameters, key)
    reasons = " or ".join(dict.fromkeys(reason(detail) for detail in details))
    if isinstance(value, Mapping):
        return f"in `{dotted}`, {reasons}"
    return f"`{dotted}` is {value!r}, but it must be {reasons}"


def reason(detail: dict[str, Any]) -> str:
    """What a value must be, from one pydantic error."""
    message = str(detail["msg"])
    for prefix in ("Input should be ", "Value error, ", "Assertion failed, "):
        if message.startswith(prefix):
            message = message[len(prefix) :]
    # "a valid dictionary or instance of Reporting": the class is the schema's, not the user's.
    return re.sub(r" or instance of \w+$", "", message)


def lookup(parameters: Mapping[str, Any], key: Sequence[str]) -> Any:
    """The value at a dotted key, or None."""
    node: Any = parameters
    for part in key:
        if isinstance(node, Mapping) and part in node:
            node = node[part]
        elif isinstance(node, list | tuple) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return None
    return node


def check(parameters: Mapping[str, Any]) -> None:
    """Raise one error listing every problem of the parameters; return when there is none."""
    found = problems(parameters)
    if not found:
        return
    count = f"{len(found)} problems" if len(found) > 1 else "a problem"
    raise MultimodalKerasError(
        f"The parameters have {count}: "
        + "; ".join(found)
        + ". Fix them in conf/<env>/parameters*.yml or in --params."
    )


# ---------------------------------------------------------------------------------------
# The parameter reference (docs/parameters.md), written from the schema and conf/base


def allowed(annotation: Any, metadata: Sequence[Any] = ()) -> str:
    """What a value of this annotation may be, in words."""
    origin, arguments = get_origin(annotation), get_args(annotation)
    if origin is Annotated:
        return allowed(arguments[0], [*arguments[1:], *metadata])
    if origin is Literal:
        return " or ".join(repr(value) for value in arguments)
    if origin in (Union, UnionType):
        return " or ".join(
            "null" if argument is type(None) else allowed(argument) for argument in arguments
        )
    if origin in (list, tuple):
        inner = ", ".join(allowed(argument) for argument in arguments if argument is not Ellipsis)
        return f"list of {inner}" if origin is list else f"({inner})"
    if origin is dict:
        return "mapping"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return "block"
    words = {bool: "true or false", int: "integer", float: "number", str: "string"}
    text = words.get(annotation, getattr(annotation, "__name__", str(annotation)))
    bounds = [bound for item in metadata for bound in bounds_of(item)]
    return f"{text} {' and '.join(bounds)}" if bounds else text


def bounds_of(item: Any) -> list[str]:
    """A field constraint's bounds, as ``> 0`` or ``<= 100``."""
    if hasattr(item, "metadata"):  # a FieldInfo inside Annotated
        return [bound for inner in item.metadata for bound in bounds_of(inner)]
    symbols = {"gt": ">", "ge": ">=", "lt": "<", "le": "<="}
    return [f"{symbol} {getattr(item, name)}" for name, symbol in symbols.items()
            if getattr(item, name, None) is not None]  # fmt: skip


def reference_rows(
    model: type[BaseModel], values: Mapping[str, Any], prefix: str
) -> list[tuple[str, str, str]]:
    """(key, what it may be, conf/base value) for every leaf key of a block."""
    rows = []
    for name, field in model.model_fields.items():
        key = f"{prefix}{name}"
        value = values.get(name) if isinstance(values, Mapping) else None
        nested = nested_model(model, name)
        if nested is not None and isinstance(value, Mapping):
            rows.extend(reference_rows(nested, value, f"{key}."))
        else:
            rows.append((key, allowed(field.annotation, field.metadata), shown(value)))
    return rows


def shown(value: Any) -> str:
    """A conf/base value as it reads in YAML."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{k}: {shown(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(shown(item) for item in value) + "]"
    return str(value)


def reference(base: Mapping[str, Any]) -> str:
    """docs/parameters.md: every parameter, what it may be and its value in conf/base."""
    lines = [
        "# Parameter reference",
        "",
        "Every parameter a run reads, what it may be, and its value in `conf/base`. A run",
        "checks its merged parameters against this before any node runs (parameters.py);",
        "the comments in `conf/base/parameters*.yml` say what each is for. Written by",
        "`python scripts/write_parameter_reference.py`; a test keeps it in step with the schema.",
    ]
    for name, field in schema().model_fields.items():
        model = nested_model(schema(), name)
        lines += ["", f"## `{name}`", "", "| key | may be | conf/base |", "| --- | --- | --- |"]
        if model is None:
            what = allowed(field.annotation, field.metadata)
            lines.append(f"| `{name}` | {what} | {cell(shown(base.get(name)))} |")
            continue
        for key, what, value in reference_rows(model, base.get(name) or {}, f"{name}."):
            lines.append(f"| `{key}` | {cell(what)} | {cell(value)} |")
    return "\n".join(lines) + "\n"


def cell(text: str) -> str:
    """Text safe inside a Markdown table cell."""
    return text.replace("|", "\\|")
