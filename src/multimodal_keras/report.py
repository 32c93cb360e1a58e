"""Building blocks of the run report: one self-contained HTML page.

The HTML is the Jinja2 template ``templates/run_report.html.j2``: the page and each
block are its macros, rendered with autoescape on, so every text that comes from data is
escaped. This module formats values, renders figures to PNG and calls the macros; each
block is returned as HTML text, which the blocks that take a ``body`` insert as it is.
Everything the page shows is inline (styles, and figures as base64 PNG ``data:`` URIs),
so the file opens offline, by itself, in any browser.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Iterable, Mapping
from typing import Any

import jinja2
from markupsafe import Markup
from matplotlib.figure import Figure

TEMPLATE = "run_report.html.j2"


def format_value(value: Any, max_items: int) -> str:
    """A scalar, list or mapping as short readable text; long lists are cut with a count."""
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, Mapping):
        return "; ".join(f"{key}: {format_value(item, max_items)}" for key, item in value.items())
    if isinstance(value, list | tuple):
        shown = ", ".join(format_value(item, max_items) for item in value[:max_items])
        hidden = len(value) - max_items
        return f"[{shown}{f', … {hidden} more' if hidden > 0 else ''}]"
    return str(value)


def is_number(value: Any) -> bool:
    """True for ints and floats, not for booleans."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def _macros() -> Any:
    """The template's macros, from the package's own copy of it (also when installed)."""
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("multimodal_keras", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    environment.filters["format_value"] = format_value
    environment.tests["plain_number"] = is_number
    return environment.get_template(TEMPLATE).module


_MACROS = _macros()


def table(header: list[str], rows: Iterable[Iterable[Any]], max_items: int = 12) -> str:
    """An HTML table; numbers are right-aligned, other values formatted and escaped."""
    return str(_MACROS.table(header, [list(row) for row in rows], max_items))


def key_values(mapping: Mapping[str, Any], max_items: int) -> str:
    """A two-column table of a mapping's keys and formatted values."""
    return table(["", "value"], ([key, value] for key, value in mapping.items()), max_items)


def figure_png(figure: Figure | bytes, dpi: int) -> bytes:
    """The figure rendered as PNG bytes; a figure saved before (PNG bytes) as it is."""
    if isinstance(figure, bytes):
        return figure
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    return buffer.getvalue()


def image(png: bytes, alt: str) -> str:
    """An ``<img>`` that carries its PNG inline as a base64 data URI."""
    return str(_MACROS.image(base64.b64encode(png).decode("ascii"), alt))


def preformatted(text: str) -> str:
    """Text shown as it is, in a monospace block."""
    return str(_MACROS.preformatted(text))


def details(summary: str, body: str) -> str:
    """A collapsed block that opens on a click on its summary; ``body`` is HTML."""
    return str(_MACROS.details(summary, Markup(body)))


def paragraph(text: str, muted: bool = False) -> str:
    """One escaped paragraph."""
    return str(_MACROS.paragraph(text, muted))


def subheading(text: str) -> str:
    """A heading within a section."""
    return str(_MACROS.subheading(text))


def page(title: str, subtitle: str, sections: list[tuple[str, str, str]]) -> str:
    """The whole document: title, a navigation bar, then each (anchor, title, body) section,
    whose body is HTML."""
    marked = [(anchor, heading, Markup(body)) for anchor, heading, body in sections]
    return str(_MACROS.page(title, subtitle, marked))
