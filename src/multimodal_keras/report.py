"""Building blocks of the run report: one self-contained HTML page.

Everything the page shows is inline: styles in a ``<style>`` element and figures as
base64 PNG ``data:`` URIs, so the file opens offline, by itself, in any browser.
Every text that comes from data is escaped.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Iterable, Mapping
from typing import Any

from matplotlib.figure import Figure

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 72rem;
       padding: 0 1rem; color: #1d2733; line-height: 1.4; }
h1 { margin-bottom: 0.2rem; }
h2 { border-bottom: 1px solid #d0d7de; padding-bottom: 0.2rem; margin-top: 2.2rem; }
nav a { margin-right: 1rem; }
table { border-collapse: collapse; margin: 0.6rem 0; }
th, td { border: 1px solid #d0d7de; padding: 0.25rem 0.6rem; text-align: left;
         vertical-align: top; }
th { background: #f3f5f7; }
td.number { text-align: right; font-variant-numeric: tabular-nums; }
pre { background: #f6f8fa; padding: 0.6rem; overflow-x: auto; margin: 0.3rem 0; }
img { max-width: 100%; height: auto; }
.muted { color: #57606a; }
details { margin: 0.3rem 0; }
"""


def escape(value: Any) -> str:
    """Any value as HTML-safe text."""
    return html.escape(str(value), quote=True)


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


def table(header: list[str], rows: Iterable[Iterable[Any]], max_items: int = 12) -> str:
    """An HTML table; numbers are right-aligned, other values formatted and escaped."""
    head = "".join(f"<th>{escape(name)}</th>" for name in header)
    body = []
    for row in rows:
        cells = []
        for value in row:
            number = is_number(value)
            text = format_value(value, max_items) if value is not None else "—"
            cells.append(f"<td{' class=number' if number else ''}>{escape(text)}</td>")
        body.append(f"<tr>{''.join(cells)}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


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
    encoded = base64.b64encode(png).decode("ascii")
    return f'<img alt="{escape(alt)}" src="data:image/png;base64,{encoded}">'


def preformatted(text: str) -> str:
    """Text shown as it is, in a monospace block."""
    return f"<pre>{escape(text)}</pre>"


def details(summary: str, body: str) -> str:
    """A collapsed block that opens on a click on its summary."""
    return f"<details><summary>{escape(summary)}</summary>{body}</details>"


def paragraph(text: str, muted: bool = False) -> str:
    """One escaped paragraph."""
    return f"<p{' class=muted' if muted else ''}>{escape(text)}</p>"


def section(anchor: str, title: str, body: str) -> str:
    """A titled section that the page's navigation links to."""
    return f'<section id="{escape(anchor)}"><h2>{escape(title)}</h2>{body}</section>'


def page(title: str, subtitle: str, sections: list[tuple[str, str, str]]) -> str:
    """The whole document: title, a navigation bar, then each (anchor, title, body) section."""
    navigation = "".join(f'<a href="#{escape(a)}">{escape(t)}</a>' for a, t, _ in sections)
    body = "".join(section(anchor, heading, content) for anchor, heading, content in sections)
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{STYLE}</style></head>"
        f"<body><h1>{escape(title)}</h1>{paragraph(subtitle, muted=True)}"
        f"<nav>{navigation}</nav>{body}</body></html>\n"
    )
