"""The run report's HTML building blocks: escaped text, inline figures, one whole page."""

from __future__ import annotations

import base64
import re

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402

from multimodal_keras import report  # noqa: E402

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def test_text_from_data_is_escaped():
    html = report.table(["<b>"], [["<script>alert(1)</script>"]])
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "&lt;b&gt;" in html


def test_numbers_are_right_aligned_and_missing_values_shown_as_a_dash():
    html = report.table(["metric", "value"], [["auc", 0.912345], ["f1", None]])
    assert "<td class=number>0.9123</td>" in html
    assert "<td>—</td>" in html


def test_long_lists_are_cut_with_a_count():
    assert report.format_value(list(range(20)), max_items=3) == "[0, 1, 2, … 17 more]"
    assert report.format_value({"a": [1, 2]}, max_items=3) == "a: [1, 2]"


def test_a_figure_is_embedded_as_a_png_data_uri():
    figure, axis = plt.subplots()
    axis.plot([0, 1], [1, 0])
    html = report.image(report.figure_png(figure, dpi=50), "a line")
    plt.close(figure)
    encoded = re.fullmatch(r'<img alt="a line" src="data:image/png;base64,([^"]+)">', html)
    assert encoded and base64.b64decode(encoded[1]).startswith(PNG_SIGNATURE)


def test_the_page_links_its_sections_and_needs_nothing_from_outside():
    html = report.page("Run", "today", [("a", "First", "<p>1</p>"), ("b", "Second", "")])
    assert html.startswith("<!DOCTYPE html>")
    assert '<a href="#a">First</a><a href="#b">Second</a>' in html
    assert '<section id="b"><h2>Second</h2></section>' in html
    assert "<style>" in html
    assert not re.search(r"(src|href)=\"(https?:|//)", html)
