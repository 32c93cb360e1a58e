"""A draft (``drafting.Draft``) as the two files of an environment, with its evidence.

``parameters_yaml`` writes ``conf/<env>/parameters.yml``: a comment block at the top
listing what the data do not settle (with the choice made), then the target and task, the
id and group columns, the missing-value markers and each modality's columns, every value
with a comment giving its evidence. ``catalog_yaml`` writes ``conf/<env>/catalog.yml``'s
``raw_table`` entry. Both are plain text built line by line, since a YAML library drops
comments; every value goes through ``yaml.safe_dump``, so names that need quotes get them.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

from multimodal_keras.drafting import GROUP, ID, IMAGE, LEFT_OUT, PATH, TEXT, Column, Draft
from multimodal_keras.errors import one_line

WIDTH = 92  # of the comment block at the top
INDENT = "  "


def parameters_yaml(
    draft: Draft,
    modalities: Iterable[str],
    command: str,
    source: str,
    run_command: str,
    written_path: Callable[[Path], str],
) -> str:
    """``conf/<env>/parameters.yml`` of a draft.

    Args:
        draft: What was drafted, with its evidence.
        modalities: The parameter blocks that take ``columns`` (every one is written, so
            that base's demo columns never stay configured).
        command: The command line that drafted it, for the header.
        source: Which rows of which table it was drafted from, for the header.
        run_command: The command that trains the environment.
        written_path: Turns a path into the text the file holds (relative to the project).
    """
    lines = _header(draft, command, source, run_command)
    lines += ["", "table:"]
    lines += _entry("target", draft.target.name)
    lines += _entry("task", draft.target.task, draft.target.evidence)
    lines += _entry("id_column", draft.id_column, _id_evidence(draft))
    if draft.missing_values:
        where = "; ".join(f"{m!r}: {draft.missing_evidence[m]}" for m in draft.missing_values)
        lines += _entry("missing_values", draft.missing_values, f"seen as {where}")
    if draft.missing_values_per_column:
        lines += [f"{INDENT}missing_values_per_column:"]
        for column, markers in draft.missing_values_per_column.items():
            where = "; ".join(f"{m!r}: {draft.missing_evidence[m]}" for m in markers)
            lines += _entry(column, markers, where, INDENT * 2)
    if draft.group_column:
        (group,) = draft.of_role(GROUP)
        lines += ["", "split:"]
        lines += _entry(
            "group_column",
            draft.group_column,
            f"{group.group_evidence}: rows of one value stay in one split",
        )
    for modality in modalities:
        lines += ["", f"{modality}:"]
        lines += _columns(draft.of_role(modality))
        if modality == TEXT and draft.of_role(TEXT):
            lines += _entry(
                "sequence_length",
                "auto",
                "each column's length comes from its training texts when the run fits it "
                "(text.length_percentile of their token counts); word counts above",
            )
        if modality == IMAGE and draft.image is not None:
            lines += _image(draft, written_path)
    return "\n".join(lines) + "\n"


def catalog_yaml(entry: Mapping[str, Any], command: str) -> str:
    """``conf/<env>/catalog.yml``: the ``raw_table`` entry."""
    lines = [
        f"# Drafted by `{command}`.",
        "# An environment's catalog entry replaces base's whole, so the kedro-viz layer and",
        "# preview settings of conf/base/catalog.yml's raw_table are repeated here.",
    ]
    dumped = yaml.safe_dump(
        {"raw_table": dict(entry)}, sort_keys=False, allow_unicode=True, width=WIDTH
    )
    return "\n".join(lines) + "\n" + dumped


def _header(draft: Draft, command: str, source: str, run_command: str) -> list[str]:
    """The comment block: where the draft comes from and what is left to decide."""
    lines = _comment(
        f"Drafted by `{command}` from {source}. Each value says what in the data it rests "
        "on. Check them, settle what the data do not (below), then train:"
    )
    lines += ["#", f"#   {run_command}", "#"]
    doubts = ([draft.target] if draft.target.undecided else []) + draft.undecided
    if not doubts:
        lines += _comment("To decide: nothing; every column's role follows from the data.")
    else:
        lines += _comment(
            "To decide: the data do not settle these, so the draft chose as shown; move a "
            "column to another modality's columns (or remove it) to choose otherwise."
        )
        for doubt in doubts:
            chosen = getattr(doubt, "role", None) or f"task {doubt.task}"
            item = f"- {doubt.name}: {_chosen(chosen)}; {doubt.undecided}."
            lines += _comment(item, "  ", "    ")
    if draft.suggested_groups:
        lines += ["#"]
        lines += _comment(
            "Group keys to consider: when rows sharing a value (one customer, one product) "
            "must stay in one split, set split.group_column to one of these."
        )
        for column in draft.suggested_groups:
            lines += _comment(f"- {column.name}: {column.group_evidence}.", "  ", "    ")
    return lines


def _chosen(role: str) -> str:
    if role == LEFT_OUT:
        return "left out"
    if role == ID:
        return "table.id_column"
    if role.startswith("task "):
        return role
    return f"{role}"


def _id_evidence(draft: Draft) -> str:
    if draft.id_column is None:
        return "no column holds a distinct one-word value, or ascending whole number, per row"
    (column,) = [c for c in draft.columns if c.name == draft.id_column]
    return f"{column.evidence}; the run stops if a row repeats one"


def _columns(columns: list[Column]) -> list[str]:
    if not columns:
        return [f"{INDENT}columns: []"]
    lines = [f"{INDENT}columns:"]
    for column in columns:
        lines.append(f"{INDENT * 2}- {_flow(column.name)}  # {one_line(column.evidence)}")
    return lines


def _image(draft: Draft, written_path: Callable[[Path], str]) -> list[str]:
    image = draft.image
    held = "name image files under root" if image.source == PATH else "hold encoded images"
    lines = _entry("source", image.source, f"the image columns' cells {held}")
    if image.source == PATH:
        lines += _entry("root", written_path(image.root), "image paths resolve under this folder")
    lines += _entry("height", image.height, image.evidence)
    lines += _entry("width", image.width)
    lines += _entry("channels", image.channels)
    return lines


def _entry(key: str, value: Any, comment: str = "", indent: str = INDENT) -> list[str]:
    """``key: value`` with its comment, in flow style."""
    text = f"{indent}{_flow(key)}: {_flow(value)}"
    return [f"{text}  # {one_line(comment)}" if comment else text]


def _flow(value: Any) -> str:
    """A YAML value on one line, quoted when it needs to be."""
    dumped = yaml.safe_dump(
        value, default_flow_style=True, allow_unicode=True, width=float("inf"), sort_keys=False
    )
    return dumped.removesuffix("\n").removesuffix("\n...").strip()


def _comment(text: str, indent: str = "", hanging: str = "") -> list[str]:
    """A comment paragraph wrapped to the block's width (list items with a hanging indent)."""
    wrapped = textwrap.wrap(
        one_line(text), WIDTH - 2, initial_indent=indent, subsequent_indent=hanging or indent
    )
    return [f"# {line}" for line in wrapped]


def relative_writer(project: Path) -> Callable[[Path], str]:
    """Writes paths under ``project`` relative to it (as the catalog reads them), others whole."""

    def written(path: Path) -> str:
        resolved = Path(path).resolve()
        if resolved.is_relative_to(project.resolve()):
            return resolved.relative_to(project.resolve()).as_posix() or "."
        return resolved.as_posix()

    return written
