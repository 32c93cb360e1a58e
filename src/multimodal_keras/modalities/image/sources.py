"""Where an image's bytes come from, and the one loop that checks every image cell.

A cell holds the image's bytes (``source: bytes``) or a path under ``image.root``
(``source: path``); a path that would leave the root is refused, whatever the file.
``check_cells`` runs a check over the cells of some columns and collects, per column,
the rows it refuses: validation, the size ``auto`` reads, the transform's header check
and the search for an undecodable image all go through it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from multimodal_keras.errors import MultimodalKerasError
from multimodal_keras.modalities.base import ROW_ID

if TYPE_CHECKING:
    from multimodal_keras.modalities.image.preprocessor import ImagePreprocessor

BYTES = "bytes"
PATH = "path"
# Problems an error message lists before it only counts them.
SHOWN_PROBLEMS = 5


def resolve_path(root: str | None, relative: str) -> Path:
    """The file a path cell names, refused when it would leave the image root."""
    base = Path(root or ".").resolve()
    candidate = (base / relative).resolve()
    if Path(relative).is_absolute() or not candidate.is_relative_to(base):
        raise MultimodalKerasError(
            f"Image path {relative!r} leaves the image root {str(base)!r}; "
            "store paths relative to the root configured under image.root."
        )
    return candidate


def cell_bytes(cell: Any, preprocessor: ImagePreprocessor) -> bytes:
    """The raw bytes a cell holds or points to (the preprocessor's ``source`` and ``root``).

    Raises ``ValueError`` for an empty cell, a missing file or text in a bytes column, and
    ``MultimodalKerasError`` for a path outside the root.
    """
    if cell is None or (not isinstance(cell, bytes | bytearray | str) and pd.isna(cell)):
        raise ValueError("the cell is empty")
    if preprocessor.source == PATH:
        path = resolve_path(preprocessor.root, str(cell))
        if not path.is_file():
            raise ValueError(f"no file at {path}")
        return path.read_bytes()
    if isinstance(cell, str):
        raise ValueError("the cell holds text, not image bytes (set image.source to 'path'?)")
    return bytes(cell)


def row_major_cells(rows: pd.DataFrame, columns: list[str]) -> list[tuple[Any, str, Any]]:
    """(row id, column, cell) for every image cell, row by row, columns in order."""
    return [
        (row_id, column, cell)
        for row_id, *cells in zip(rows[ROW_ID], *(rows[c] for c in columns), strict=True)
        for column, cell in zip(columns, cells, strict=True)
    ]


@dataclass
class CellCheck:
    """What ``check_cells`` found."""

    # What the check returned for each cell it accepted, column by column.
    results: list[Any] = field(default_factory=list)
    # Per column with any, in column order: (row id, why) of each refused cell, in row order.
    problems: dict[str, list[tuple[Any, str]]] = field(default_factory=dict)

    def first_column(self) -> tuple[str, list[str]] | None:
        """The first column with problems and its problems as ``row <id>: <why>``, or None."""
        if not self.problems:
            return None
        column, found = next(iter(self.problems.items()))
        return column, [f"row {row_id}: {why}" for row_id, why in found]

    def reasons_by_row(self) -> pd.Series:
        """Why each refused row is refused (``<column>: <why>``, its first column's), by row id."""
        reasons: dict[Any, str] = {}
        for column, found in self.problems.items():
            for row_id, why in found:
                reasons.setdefault(row_id, f"{column}: {why}")
        return pd.Series(reasons, dtype="string", index=pd.Index(list(reasons), name=ROW_ID))


def check_cells(
    rows: pd.DataFrame,
    columns: list[str],
    check: Callable[[Any], Any],
    refused: tuple[type[Exception], ...] = (ValueError,),
) -> CellCheck:
    """Run ``check`` on every cell of ``columns``, column by column; a cell it refuses (it
    raises one of ``refused``) is recorded with its row id and the error's message.
    """
    found = CellCheck()
    for column in columns:
        for row_id, cell in zip(rows[ROW_ID], rows[column], strict=True):
            try:
                found.results.append(check(cell))
            except refused as error:
                found.problems.setdefault(column, []).append((row_id, str(error)))
    return found


class UnreadableImagesError(MultimodalKerasError):
    """Images found unusable while pixels were being made, listed by row id."""


def unreadable(column: str, problems: list[str]) -> str:
    """The message for a column's unusable images: how many, and the first few."""
    shown = "; ".join(problems[:SHOWN_PROBLEMS])
    return (
        f"Image column {column!r} has {len(problems)} unreadable image(s) ({shown}); "
        "fix or remove these rows."
    )
