"""Drafting an environment from a sample of a table: what each column is, and why.

``draft`` is a pure function of a table sample and the project's settings: it infers the
task from the target, sorts each column into a modality, picks the id and group columns,
collects missing-value markers and the image settings, and records for every choice the
evidence it rests on (counts, lengths, examples). Columns the data do not settle (short
strings with many values, numbers with few) get a choice and an ``undecided`` note, which
the written draft lists for the user. ``draft_yaml.py`` writes a draft as
``conf/<env>/`` files; ``init_env.py`` reads the table and runs ``kedro init-env``.

The rules' thresholds are ``drafting.*`` (``conf/base/parameters_drafting.yml``); the task,
text and image settings come from the project's own parameters, so that the draft agrees
with what a run infers. Nothing here starts TensorFlow: the command stays quick.
"""

from __future__ import annotations

import difflib
import io
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import pandas as pd
from PIL import Image, UnidentifiedImageError
from pydantic import Field

from multimodal_keras import options
from multimodal_keras.errors import MultimodalKerasError
from multimodal_keras.image_formats import GREY_MODES, image_format
from multimodal_keras.modalities.names import CATEGORICAL, IMAGE, NUMERICAL, TEXT
from multimodal_keras.targets import BINARY, MULTICLASS, infer_task

ID, GROUP, LEFT_OUT = "id", "group", "left out"
BYTES, PATH = "bytes", "path"
# Characters of a value quoted in a comment.
EXCERPT = 40
# What validation strips from a cell before comparing it with a missing-value marker
# (missing_values.py), so that a whitespace-only cell is the marker "".
ASCII_WHITESPACE = " \t\n\r\v\f"


class Options(options.Options):
    """``drafting``: the thresholds of the drafting rules (parameters_drafting.yml)."""

    sample_rows: options.Positive
    category_max_levels: options.Positive
    category_max_share: Annotated[float, Field(gt=0, le=1)]
    text_min_words: options.Positive
    text_min_characters: options.Positive
    few_numbers: options.Positive
    code_min_rows: options.Positive
    group_max_rows: options.Positive
    missing_markers: list[str]
    image_probe: options.Positive
    examples: options.Positive
    dataset_types: dict[str, str]


@dataclass(frozen=True)
class ProjectSettings:
    """The project's own settings a draft must agree with."""

    max_classes: int  # table.max_classes: integer targets with at most this many values are classes
    length_percentile: float  # text.length_percentile, of the auto sequence length
    image_formats: tuple[str, ...]  # image.formats
    image_auto_sample: int  # image.auto_sample and auto_max_size: how auto sizes are found
    image_auto_max_size: int

    @classmethod
    def from_parameters(cls, parameters: Mapping[str, Any]) -> ProjectSettings:
        """The settings from a project's merged parameters."""
        image = parameters[IMAGE]
        return cls(
            max_classes=int(parameters["table"]["max_classes"]),
            length_percentile=float(parameters[TEXT]["length_percentile"]),
            image_formats=tuple(str(name).upper() for name in image["formats"]),
            image_auto_sample=int(image["auto_sample"]),
            image_auto_max_size=int(image["auto_max_size"]),
        )


@dataclass(frozen=True)
class Column:
    """One column's drafted role and the evidence for it."""

    name: str
    role: str  # a modality, ID, GROUP or LEFT_OUT
    evidence: str
    undecided: str = ""  # set when the data do not settle the role: what else it could be
    markers: dict[str, int] = field(default_factory=dict)  # missing markers seen: cell -> rows
    image_source: str | None = None
    group: str = ""  # "clear" or "suggested" when the column looks like a group key
    group_evidence: str = ""


@dataclass(frozen=True)
class Target:
    """The target column, its task and the evidence for it."""

    name: str
    task: str
    evidence: str
    undecided: str = ""
    markers: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class ImageDraft:
    """The image settings: where the images are and the size they are read at."""

    source: str
    root: Path | None
    height: int
    width: int
    channels: int
    evidence: str


@dataclass(frozen=True)
class Draft:
    """An environment's drafted parameters, each with its evidence."""

    rows: int  # rows of the sample drafted from
    target: Target
    columns: list[Column]
    id_column: str | None
    group_column: str | None
    missing_values: list[str]
    missing_values_per_column: dict[str, list[str]]
    missing_evidence: dict[str, str]  # marker -> where it was seen
    image: ImageDraft | None

    def of_role(self, role: str) -> list[Column]:
        """The columns drafted into one modality (or role), in the table's order."""
        return [column for column in self.columns if column.role == role]

    @property
    def undecided(self) -> list[Column]:
        """Columns whose role the data do not settle, with the choice made for each."""
        return [column for column in self.columns if column.undecided]

    @property
    def suggested_groups(self) -> list[Column]:
        """Columns that may be group keys, left to the user."""
        return [c for c in self.columns if c.group and c.name != self.group_column]


# ---------------------------------------------------------------------------------------
# The whole draft


def draft(
    sample: pd.DataFrame,
    target: str,
    settings: Options,
    project: ProjectSettings,
    image_root: Path | None,
) -> Draft:
    """Draft an environment from a table sample.

    Args:
        sample: Rows of the table, in the table's order, as its catalog entry loads them.
        target: The target column's name.
        settings: The drafting thresholds (``drafting``).
        project: The project's settings the draft must agree with.
        image_root: The folder image paths are tried under, or None to try none.

    Returns:
        The draft: the task, every other column's role, the id and group columns, the
        missing-value markers and the image settings, each with its evidence.
    """
    if target not in sample.columns:
        names = [str(c) for c in sample.columns]
        close = difflib.get_close_matches(target, names, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise MultimodalKerasError(
            f"The table has no column {target!r} to use as the target; its columns are "
            f"{names}. Name one of them with --target{hint}."
        )
    if sample.empty:
        raise MultimodalKerasError("The table has no rows; point --table at a table with data.")
    markers = {marker.strip().lower() for marker in settings.missing_markers}
    drafted_target = draft_target(sample[target], project, markers)
    root = image_root.resolve() if image_root is not None else None
    columns = [
        draft_column(sample[name], settings, project, markers, root)
        for name in sample.columns
        if name != target
    ]
    columns, id_column = _one_id_column(columns)
    columns, group_column = _one_group_column(columns)
    columns = _one_image_source(columns)
    global_markers, per_column, where = missing_markers(sample, columns, drafted_target)
    return Draft(
        rows=len(sample),
        target=drafted_target,
        columns=columns,
        id_column=id_column,
        group_column=group_column,
        missing_values=global_markers,
        missing_values_per_column=per_column,
        missing_evidence=where,
        image=draft_images(sample, columns, project, root),
    )


def _one_id_column(columns: list[Column]) -> tuple[list[Column], str | None]:
    """The first identifier becomes table.id_column; any other is left out, for the user."""
    ids = [column.name for column in columns if column.role == ID]
    if len(ids) <= 1:
        return columns, ids[0] if ids else None
    kept = [
        replace(
            column,
            role=LEFT_OUT,
            undecided=f"another identifier beside {ids[0]!r}, left out of the features",
        )
        if column.role == ID and column.name != ids[0]
        else column
        for column in columns
    ]
    return kept, ids[0]


def _one_image_source(columns: list[Column]) -> list[Column]:
    """Image columns of the first column's source; one of the other source is left out."""
    sources = [column.image_source for column in columns if column.role == IMAGE]
    if len(set(sources)) <= 1:
        return columns
    return [
        replace(
            column,
            role=LEFT_OUT,
            undecided=f"image {column.image_source}, but image.source is {sources[0]} for "
            "the other image columns (one source for all): left out",
        )
        if column.role == IMAGE and column.image_source != sources[0]
        else column
        for column in columns
    ]


def _one_group_column(columns: list[Column]) -> tuple[list[Column], str | None]:
    """The first clear group key becomes split.group_column; the others stay suggestions."""
    clear = [column.name for column in columns if column.group == "clear"]
    if not clear:
        return columns, None
    kept = [
        replace(column, role=GROUP)
        if column.name == clear[0]
        else replace(column, group="suggested")
        if column.group
        else column
        for column in columns
    ]
    return kept, clear[0]


# ---------------------------------------------------------------------------------------
# The target


def draft_target(values: pd.Series, project: ProjectSettings, markers: set[str]) -> Target:
    """The task a run would infer from the target (``targets.infer_task``), with evidence."""
    name = str(values.name)
    present = values.dropna()
    seen: dict[str, int] = {}
    if _kind(present) == "strings":
        texts = present.astype(str)
        is_marker = texts.map(lambda cell: _is_marker(cell, markers))
        seen = dict(Counter(texts[is_marker].map(_marker_text)))
        present = texts[~is_marker]
        numbers = pd.to_numeric(present, errors="coerce")
        if seen and len(present) and numbers.notna().all():
            present = numbers  # numbers that a marker made the reader keep as text
    if present.empty:
        raise MultimodalKerasError(
            f"The target column {name!r} is empty in every sampled row; name the column "
            "that holds the labels with --target."
        )
    counts = present.value_counts()
    if len(counts) < 2:
        raise MultimodalKerasError(
            f"The target column {name!r} has one value only ({_quoted(counts.index[0])}) in "
            f"the {len(values)} sampled rows; a model needs at least two classes or varying "
            "numbers, so name another column with --target."
        )
    task = infer_task(present, None, project.max_classes)
    missing = len(values) - len(present)
    gaps = f"; {missing} rows without a value are dropped by the run" if missing else ""
    if task == BINARY:
        shown = ", ".join(f"{_quoted(value)} ({count} rows)" for value, count in counts.items())
        return Target(name, task, f"2 distinct values: {shown}{gaps}", markers=seen)
    numeric = pd.api.types.is_numeric_dtype(present)
    if task == MULTICLASS:
        if numeric:
            evidence = (
                f"{len(counts)} distinct whole numbers {_range(present)}, at most "
                f"table.max_classes ({project.max_classes}): classes{gaps}"
            )
            doubt = "whole numbers as classes; set table.task: regression if their order matters"
            return Target(name, task, evidence, doubt, seen)
        shown = ", ".join(f"{_quoted(v)} ({n})" for v, n in counts.head(3).items())
        evidence = f"{len(counts)} distinct values, e.g. {shown}{gaps}"
        return Target(name, task, evidence, markers=seen)
    evidence = f"numbers {_range(present)}, {len(counts)} distinct{gaps}"
    return Target(name, task, evidence, markers=seen)


# ---------------------------------------------------------------------------------------
# One column


def draft_column(
    values: pd.Series,
    settings: Options,
    project: ProjectSettings,
    markers: set[str],
    image_root: Path | None,
) -> Column:
    """One column's role and the evidence for it."""
    name = str(values.name)
    present = values.dropna()
    kind = _kind(present)
    if present.empty:
        return Column(name, LEFT_OUT, "empty in every sampled row", "empty: nothing to learn")
    if kind == "booleans":
        return Column(name, CATEGORICAL, f"true/false values{_absent(values)}")
    if kind == "numbers":
        return _numbers_column(name, pd.to_numeric(values), settings, {}, "", _absent(values))
    if kind == "bytes":
        return _bytes_column(name, values, present, project)
    if kind == "strings":
        return _strings_column(name, values, settings, project, markers, image_root)
    what = str(values.dtype) if kind == "other" else kind
    return Column(
        name,
        LEFT_OUT,
        f"values of type {what}, which no modality reads",
        f"{what} values: left out; derive numbers or categories from them to use them",
    )


def _kind(present: pd.Series) -> str:
    """What the non-missing values are: numbers, booleans, strings, bytes or other."""
    dtype = present.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return "booleans"
    if pd.api.types.is_numeric_dtype(dtype):
        return "numbers"
    if pd.api.types.is_datetime64_any_dtype(dtype) or pd.api.types.is_timedelta64_dtype(dtype):
        return "dates"
    if isinstance(dtype, pd.CategoricalDtype):
        return "strings"
    if present.empty:
        return "strings"
    types = {type(value) for value in present}
    if types <= {bytes, bytearray, memoryview}:
        return "bytes"
    if types <= {bool, np.bool_}:
        return "booleans"
    if all(issubclass(kind, int | float | np.number) and kind is not bool for kind in types):
        return "numbers"
    if types <= {str} or pd.api.types.is_string_dtype(dtype):
        return "strings"
    if all(issubclass(kind, str | int | float | np.number) for kind in types):
        return "strings"  # mixed value types: the run reads every value as a string
    return "other"


def _numbers_column(
    name: str,
    numbers: pd.Series,
    settings: Options,
    markers: dict[str, int],
    stored: str,
    about: str,
) -> Column:
    """Numbers: numerical, unless they look like an identifier or a few codes.

    ``stored`` says how the table keeps them when not as numbers, ``about`` what is missing.
    """
    present = numbers.dropna()
    if present.empty:
        return Column(name, LEFT_OUT, f"only missing markers{about}", "no value: left out", markers)
    counts = present.value_counts()
    whole = bool(np.all(np.mod(present.to_numpy(dtype=float), 1) == 0))
    kind = "whole numbers" if whole else "numbers"
    described = f"{stored}{kind} {_range(present)}, {len(counts)} distinct"
    if len(counts) == 1 and len(present) == len(numbers):
        return Column(
            name, LEFT_OUT, f"{_quoted(counts.index[0])} in every sampled row",
            "the same value in every row: left out, it adds nothing", markers,
        )  # fmt: skip
    unique = len(counts) == len(numbers)
    if whole and unique:
        if present.is_monotonic_increasing:
            return Column(name, ID, f"{described}: unique and ascending in every row{about}")
        return Column(
            name, NUMERICAL, f"{described}, unique in every row{about}",
            "unique whole numbers: if they identify rows, set table.id_column to it instead",
            markers,
        )  # fmt: skip
    if len(counts) > settings.few_numbers:
        return Column(name, NUMERICAL, f"{described}{about}", "", markers)
    if not whole:
        doubt = f"only {len(counts)} distinct numbers: categories if they are labels"
        return Column(name, NUMERICAL, f"{described}{about}", doubt, markers)
    low, high = int(present.min()), int(present.max())
    if high - low + 1 == len(counts):
        doubt = "whole numbers without gaps: a count or a scale (numerical), or codes (categorical)"
        return Column(name, NUMERICAL, f"{described}{about}", doubt, markers)
    if counts.min() >= settings.code_min_rows:
        doubt = (
            f"whole numbers with gaps, each in at least {settings.code_min_rows} rows: codes "
            "(categorical), or amounts (numerical)"
        )
        return Column(name, CATEGORICAL, f"{described}{about}", doubt, markers)
    doubt = "few whole numbers with gaps, some rare: amounts (numerical), or codes (categorical)"
    return Column(name, NUMERICAL, f"{described}{about}", doubt, markers)


def _strings_column(
    name: str,
    values: pd.Series,
    settings: Options,
    project: ProjectSettings,
    markers: set[str],
    image_root: Path | None,
) -> Column:
    """Strings: image paths, numbers kept as text, an identifier, categories or free text."""
    texts = values.dropna().astype(str)
    is_marker = texts.map(lambda cell: _is_marker(cell, markers))
    seen = dict(Counter(texts[is_marker].map(_marker_text)))
    kept = texts[~is_marker]
    if kept.empty:
        return Column(
            name, LEFT_OUT, f"only missing markers {_marker_list(seen)}",
            "no value: left out", seen,
        )  # fmt: skip
    if image_root is not None:
        found = _image_paths(name, kept, settings, project, image_root)
        if found is not None:
            return found
    numbers = pd.to_numeric(kept, errors="coerce")
    if numbers.notna().all():
        whole = bool(np.all(np.mod(numbers.to_numpy(dtype=float), 1) == 0))
        if seen or not whole:
            marked = values.astype(object).map(
                lambda cell: isinstance(cell, str) and _marker_text(cell) in seen
            )
            parsed = pd.to_numeric(values.astype(object).where(~marked), errors="coerce")
            return _numbers_column(
                name, parsed, settings, seen, "stored as text: ", _absent(values, seen)
            )
    counts = kept.value_counts()
    words = kept.str.split().str.len()
    about = _absent(values, seen)
    if len(counts) == 1 and len(kept) == len(values):
        return Column(
            name, LEFT_OUT, f"{_quoted(counts.index[0])} in every sampled row",
            "the same value in every row: left out, it adds nothing", seen,
        )  # fmt: skip
    one_word = bool((words <= 1).all())
    if len(counts) == len(values) and one_word:
        return Column(name, ID, f"{len(counts)} distinct one-word values, one per row, e.g. "
                      f"{_examples(counts, settings.examples)}")  # fmt: skip
    if (
        words.median() >= settings.text_min_words
        or kept.str.len().median() >= settings.text_min_characters
    ):
        return Column(name, TEXT, _text_evidence(kept, words, counts, project) + about)
    digits = "whole numbers stored as text, read as codes; " if numbers.notna().all() else ""
    examples = _examples(counts, settings.examples)
    described = f"{digits}{len(counts)} distinct strings, e.g. {examples}{about}"
    group, grouped = _group_key(kept, settings) if one_word else ("", "")
    limit = min(settings.category_max_levels, settings.category_max_share * len(kept))
    if len(counts) <= limit:
        return Column(name, CATEGORICAL, described, "", seen, None, group, grouped)
    share = f"{len(counts)} distinct of {len(kept)}, median {_words(words.median())}"
    if words.median() <= 1:
        doubt = f"many distinct one-word values ({share}): categories, or text"
        return Column(name, CATEGORICAL, described, doubt, seen, None, group, grouped)
    doubt = f"many distinct short strings ({share}): text, or categories"
    return Column(name, TEXT, _text_evidence(kept, words, counts, project) + about, doubt)


def _text_evidence(
    kept: pd.Series, words: pd.Series, counts: pd.Series, project: ProjectSettings
) -> str:
    """Word counts of a text column and an example."""
    percentile = float(np.percentile(words, project.length_percentile))
    return (
        f"median {_words(words.median())} ({project.length_percentile:g}th percentile "
        f"{percentile:.3g}, longest {int(words.max())}), {len(counts)} distinct, e.g. "
        f"{_quoted(_excerpt(kept.iloc[0]))}"
    )


def _group_key(values: pd.Series, settings: Options) -> tuple[str, str]:
    """Whether repeated one-word strings look like a group key (one customer, one patient).

    Numbers are not tried: a measurement (a year, an area) repeats as a key does. A clear
    key has more distinct values than categories do, every value recurs, and few rows share
    each; a suggested one has as many distinct values, some recurring.
    """
    counts = values.value_counts()
    if len(counts) <= settings.category_max_levels or counts.max() < 2:
        return "", ""
    per_value = len(values) / len(counts)
    evidence = (
        f"{len(counts)} distinct values recur in {int(counts[counts > 1].sum())} of "
        f"{len(values)} rows ({per_value:.1f} rows per value)"
    )
    if counts.min() >= 2 and per_value <= settings.group_max_rows:
        return "clear", evidence
    return "suggested", evidence


def _bytes_column(
    name: str, values: pd.Series, present: pd.Series, project: ProjectSettings
) -> Column:
    """Bytes: images when every cell starts with an image format's magic number."""
    formats = Counter(image_format(bytes(cell)) for cell in present)
    unknown = formats.pop(None, 0)
    refused = {name: n for name, n in formats.items() if name not in project.image_formats}
    about = _absent(values)
    if unknown or refused or not formats:
        found = ", ".join(f"{n} {kind}" for kind, n in formats.items()) or "no image"
        return Column(
            name, LEFT_OUT,
            f"bytes: {found}, {unknown} cells of no known image format{about}",
            f"bytes that are not all images of image.formats {list(project.image_formats)}: "
            "left out",
        )  # fmt: skip
    shown = ", ".join(f"{kind} {n}" for kind, n in formats.most_common())
    evidence = f"image bytes by their first bytes ({shown} of {len(present)} cells){about}"
    return Column(name, IMAGE, evidence, image_source=BYTES)


def _image_paths(
    name: str, kept: pd.Series, settings: Options, project: ProjectSettings, root: Path
) -> Column | None:
    """Image paths when the column's values name image files under ``root``; None if none do."""
    probe = kept.drop_duplicates().head(settings.image_probe)
    formats = Counter(_file_format(root, value, project) for value in probe)
    unreadable = formats.pop(None, 0)
    if not formats:
        return None
    shown = ", ".join(f"{kind} {n}" for kind, n in formats.most_common())
    if unreadable:
        return Column(
            name, LEFT_OUT,
            f"{sum(formats.values())} of {len(probe)} values tried name image files under "
            f"{root} ({shown}), {unreadable} do not",
            "some values name image files, others do not: fix the paths or --image-root",
        )  # fmt: skip
    absent = int(sum(_file_under(root, value) is None for value in kept))
    evidence = f"paths of image files under the image root ({shown} of {len(probe)} opened)"
    if absent:
        doubt = (
            f"{absent} of {len(kept)} paths name no file: the run stops on them unless "
            "image.invalid_rows is drop"
        )
        return Column(name, IMAGE, f"{evidence}; {absent} missing files", doubt, image_source=PATH)
    return Column(name, IMAGE, f"{evidence}, all {len(kept)} files present", image_source=PATH)


def _file_under(root: Path, value: str) -> Path | None:
    """The file a path value names under ``root``; None when there is none or it leaves root."""
    try:
        candidate = (root / value).resolve()
        inside = candidate.is_relative_to(root) and not Path(value).is_absolute()
        return candidate if inside and candidate.is_file() else None
    except (OSError, ValueError):  # a name too long, a NUL character: no file
        return None


def _file_format(root: Path, value: str, project: ProjectSettings) -> str | None:
    """The format Pillow reads in the file ``value`` names under ``root``, if allowed."""
    path = _file_under(root, value)
    if path is None:
        return None
    try:
        with Image.open(path) as image:
            found = str(image.format)
    except (OSError, ValueError, UnidentifiedImageError):
        return None
    return found if found in project.image_formats else None


# ---------------------------------------------------------------------------------------
# Across columns: missing-value markers and image settings


def missing_markers(
    sample: pd.DataFrame, columns: list[Column], target: Target
) -> tuple[list[str], dict[str, list[str]], dict[str, str]]:
    """Markers for every column, markers per column, and where each marker was seen.

    A marker goes into ``table.missing_values`` (every column) when each column holding
    that cell marks a missing value with it. When a text, identifier or image column holds
    the same cell as a value, the marker stays with the columns it marks: each of them gets
    its whole list in ``table.missing_values_per_column``, which replaces the shared list.
    """
    used: dict[str, dict[str, int]] = {}  # column -> marker -> rows
    for name, seen in [(c.name, c.markers) for c in columns] + [(target.name, target.markers)]:
        if seen:
            used[name] = dict(seen)
    markers = sorted({marker for seen in used.values() for marker in seen})
    where: dict[str, str] = {}
    shared: list[str] = []
    for marker in markers:
        users = [name for name, seen in used.items() if marker in seen]
        holders = {str(name) for name in sample.columns if _holds(sample[name], marker)}
        where[marker] = ", ".join(f"{name} ({used[name][marker]} rows)" for name in users)
        others = sorted(holders - set(users))
        if others:
            where[marker] += f"; a value, not missing, in {', '.join(others)}"
        else:
            shared.append(marker)
    per_column = {
        name: sorted(seen)
        for name, seen in used.items()
        if any(marker not in shared for marker in seen)
    }
    return shared, per_column, where


def _holds(values: pd.Series, marker: str) -> bool:
    """Whether a column holds ``marker`` as a cell (compared as validation compares them)."""
    if pd.api.types.is_numeric_dtype(values.dtype) or pd.api.types.is_bool_dtype(values.dtype):
        return False
    texts = values.dropna()
    texts = texts[texts.map(lambda cell: isinstance(cell, str))]
    return bool((texts.map(_marker_text) == marker).any())


def draft_images(
    sample: pd.DataFrame, columns: list[Column], project: ProjectSettings, root: Path | None
) -> ImageDraft | None:
    """The image source, root, size and channels, as ``auto`` would find them.

    Like the image modality's ``auto``: the commonest size among the first
    ``image.auto_sample`` images, shrunk to fit ``image.auto_max_size``, and one channel
    when they are all grey. Only the images' headers are read.
    """
    images = [column for column in columns if column.role == IMAGE]
    if not images:
        return None
    source = images[0].image_source or BYTES
    sizes: Counter[tuple[int, int]] = Counter()
    modes: Counter[str] = Counter()
    for cell in _first_cells(sample, [column.name for column in images], project):
        where = io.BytesIO(bytes(cell)) if source == BYTES else _file_under(root, str(cell))
        if where is None:
            continue
        try:
            opened = Image.open(where)
        except (OSError, ValueError, UnidentifiedImageError):
            continue
        with opened as image:
            sizes[(image.height, image.width)] += 1
            modes[image.mode] += 1
    if not sizes:
        raise MultimodalKerasError(
            f"None of the images in {[c.name for c in images]} could be opened; check "
            "the image files (or --image-root)."
        )
    (height, width), count = max(sizes.items(), key=lambda item: (item[1], item[0]))
    scale = min(1.0, project.image_auto_max_size / max(height, width))
    size = (max(1, round(height * scale)), max(1, round(width * scale)))
    grey = set(modes) <= GREY_MODES
    shrunk = (
        f", shrunk to fit image.auto_max_size {project.image_auto_max_size}" if scale < 1 else ""
    )
    evidence = (
        f"{height}x{width} in {count} of {sum(sizes.values())} images opened{shrunk}; modes "
        f"{', '.join(f'{mode} {n}' for mode, n in modes.most_common())}"
        f" ({'all grey: 1 channel' if grey else 'colour: 3 channels'})"
    )
    return ImageDraft(
        source=source,
        root=root if source == PATH else None,
        height=size[0],
        width=size[1],
        channels=1 if grey else 3,
        evidence=evidence,
    )


def _first_cells(sample: pd.DataFrame, names: list[str], project: ProjectSettings) -> Iterable[Any]:
    """The first ``image.auto_sample`` image cells, row by row."""
    cells = [
        cell for row in sample[names].itertuples(index=False) for cell in row if not pd.isna(cell)
    ]
    return cells[: project.image_auto_sample]


# ---------------------------------------------------------------------------------------
# Words for the evidence


def _marker_text(cell: str) -> str:
    """A cell as validation compares it with a marker: stripped of ASCII white space."""
    return cell.strip(ASCII_WHITESPACE)


def _is_marker(cell: str, markers: set[str]) -> bool:
    """A whole cell that says the value is missing: a marker, empty, or whitespace."""
    stripped = _marker_text(cell)
    return not stripped or stripped.lower() in markers


def _absent(values: pd.Series, markers: Mapping[str, int] | None = None) -> str:
    """What is missing: '; 12 missing, missing markers '?' in 3 rows', or nothing."""
    parts = []
    missing = int(values.isna().sum())
    if missing:
        parts.append(f"{missing} missing")
    if markers:
        parts.append(f"missing markers {_marker_list(markers)}")
    return f"; {', '.join(parts)}" if parts else ""


def _marker_list(markers: Mapping[str, int]) -> str:
    return ", ".join(f"{marker!r} in {_rows(rows)}" for marker, rows in markers.items())


def _rows(count: int) -> str:
    return f"{count} row{'' if count == 1 else 's'}"


def _words(count: float) -> str:
    return f"{count:g} word{'' if count == 1 else 's'}"


def _range(values: pd.Series) -> str:
    return f"{_number(values.min())}..{_number(values.max())}"


def _number(value: Any) -> str:
    number = float(value)
    return f"{int(number)}" if number.is_integer() else f"{number:.4g}"


def _examples(counts: pd.Series, how_many: int) -> str:
    """The commonest values with their rows."""
    shown = [f"{_quoted(_excerpt(value))} ({n})" for value, n in counts.head(how_many).items()]
    more = ", ..." if len(counts) > how_many else ""
    return ", ".join(shown) + more


def _excerpt(value: Any) -> str:
    text = " ".join(str(value).split())
    return text if len(text) <= EXCERPT else text[: EXCERPT - 3] + "..."


def _quoted(value: Any) -> str:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return repr(value)
