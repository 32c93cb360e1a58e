"""kedro-viz: the built site's data, then the flowchart as headless Chromium renders it.

``kedro viz build --include-previews`` runs in the tiny project after its ``kedro run``,
so the previews show real artifacts. The browser test serves the build on localhost,
lets Chromium render it, checks the node names in the rendered flowchart, and saves a
screenshot to this checkout's ``data/08_reporting/kedro_viz_flowchart.png``.
"""

from __future__ import annotations

import base64
import html
import json
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from multimodal_keras.modalities import MODALITIES
from multimodal_keras.pipeline_registry import register_pipelines
from tests.integration.conftest import ProjectRun
from tests.scratch_project import PROJECT_ROOT, kedro

pytestmark = pytest.mark.integration

LAYERS = ["raw", "primary", "feature", "model_input", "models", "model_output", "reporting"]
# The stage tag each registered pipeline's nodes carry.
STAGE_TAGS = {
    "data_processing": "preprocessing",
    "features": "preprocessing",
    "training": "training",
    "baseline": "evaluation",
    "evaluation": "evaluation",
    "inference": "inference",
    "serving": "serving",
    "reporting": "reporting",
    "tuning": "tuning",
}
SCREENSHOT = PROJECT_ROOT / "data" / "08_reporting" / "kedro_viz_flowchart.png"
SCREENSHOT_SIZE = (2400, 900)
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--no-first-run",
    "--hide-scrollbars",
    "--virtual-time-budget=20000",  # virtual ms for the app to fetch its data and lay out
]
# Pages that open the flowchart as a user who changed kedro-viz's settings would see it;
# kedro-viz keeps these settings in localStorage under "KedroViz".
SETTINGS_PAGES = {
    "left_to_right.html": {
        "showFeatureHints": False,
        "orientation": "horizontal",
        "visible": {"sidebar": False, "miniMap": False},
    },
    "expanded.html": {"showFeatureHints": False, "expandAllPipelines": True},
}


def settings_page(settings: dict[str, Any]) -> str:
    return (
        "<!DOCTYPE html><script>"
        f"localStorage.setItem('KedroViz', JSON.stringify({json.dumps(settings)}));"
        "location.replace('./');</script>\n"
    )


@pytest.fixture(scope="module")
def build(tiny_run: ProjectRun) -> Path:
    """The tiny project's kedro-viz site, built with dataset previews."""
    result = kedro(tiny_run.project, "viz", "build", "--include-previews")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "Failed" not in result.stdout + result.stderr
    return tiny_run.project / "build"


@pytest.fixture(scope="module")
def main(build: Path) -> dict[str, Any]:
    return json.loads((build / "api" / "main").read_text())


def nodes_of_type(main: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [node for node in main["nodes"] if node["type"] == kind]


def node_details(build: Path, main: dict[str, Any], name: str) -> dict[str, Any]:
    (node,) = [node for node in main["nodes"] if node["name"] == name]
    return json.loads((build / "api" / "nodes" / node["id"]).read_text())


def test_every_node_of_the_default_pipeline_is_in_the_flowchart(main):
    expected = {node.name for node in register_pipelines()["__default__"].nodes}
    shown = {node.get("full_name") or node["name"] for node in nodes_of_type(main, "task")}
    assert shown == expected


def test_each_modality_is_a_namespace_that_collapses_its_nodes(main):
    namespaces = {node["name"] for node in nodes_of_type(main, "modularPipeline")}
    assert namespaces == set(MODALITIES)
    for modality in MODALITIES:
        tree = main["modular_pipelines"][modality]
        children = {child["id"] for child in tree["children"]}
        tasks = {
            node["id"]
            for node in nodes_of_type(main, "task")
            if node.get("modular_pipelines") == [modality]
        }
        assert {f"{modality}.fit_preprocessor", f"{modality}.transform"} == {
            node["full_name"] for node in nodes_of_type(main, "task") if node["id"] in tasks
        }
        assert tasks <= children
    root = {child["id"] for child in main["modular_pipelines"]["__root__"]["children"]}
    assert set(MODALITIES) <= root


def test_every_dataset_has_a_layer_and_the_layers_run_from_raw_to_reporting(main):
    assert main["layers"] == LAYERS  # empty when the layers form a cycle
    unlayered = [node["name"] for node in nodes_of_type(main, "data") if not node.get("layer")]
    assert unlayered == []


def test_tags_mark_the_stage_of_every_node(main):
    assert {"preprocessing", "training", "evaluation"} <= {tag["id"] for tag in main["tags"]}
    for node in nodes_of_type(main, "task"):
        stages = {STAGE_TAGS[name] for name in node["pipelines"] if name in STAGE_TAGS}
        assert stages and stages <= set(node["tags"]), node["full_name"]


def test_metrics_figures_and_report_preview_in_kedro_viz(build, main):
    metrics = node_details(build, main, "metrics")
    assert metrics["preview_type"] == "JSONPreview"
    assert "model" in json.loads(metrics["preview"])
    importance = node_details(build, main, "modality_importance")
    # Every modality the demo uses (it leaves the neighbours off).
    assert set(json.loads(importance["preview"])["modalities"]) == set(MODALITIES) - {"neighbours"}
    for figure in ("learning_curves", "evaluation_figures", "modality_importance_chart"):
        details = node_details(build, main, figure)
        assert details["preview_type"] == "ImagePreview"
        assert base64.b64decode(details["preview"]).startswith(b"\x89PNG")
    report = node_details(build, main, "run_report")
    assert report["preview_type"] == "HTMLPreview"
    assert '<section id="importance">' in report["preview"]


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def served(request: pytest.FixtureRequest) -> Iterator[str]:
    """The build served by Python's http.server on localhost; yields its address."""
    if chromium() is None:
        pytest.skip(
            "Chromium is not installed (.ci/run installs Debian's chromium package with "
            "apt-get, which needs root and a reachable Debian mirror)."
        )
    build: Path = request.getfixturevalue("build")
    for name, settings in SETTINGS_PAGES.items():
        (build / name).write_text(settings_page(settings))
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"],
        cwd=build,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if time.monotonic() > deadline or server.poll() is not None:
                server.kill()
                raise
            time.sleep(0.1)
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        server.terminate()
        server.wait(timeout=10)


def browse(url: str, profile: Path, *arguments: str) -> subprocess.CompletedProcess:
    """Open ``url`` in headless Chromium with a fresh profile and the given extra arguments."""
    return subprocess.run(
        [chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *arguments, url],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def rendered_labels(result: subprocess.CompletedProcess) -> set[str]:
    """The texts of the flowchart's SVG labels in a dumped DOM."""
    assert result.returncode == 0, result.stderr[-2000:]
    return {html.unescape(text) for text in re.findall(r"<text[^>]*>([^<]+)</text>", result.stdout)}


def test_chromium_renders_the_flowchart_with_its_node_names_and_layers(served, main, tmp_path):
    result = browse(served, tmp_path / "profile", "--window-size=1600,1000", "--dump-dom")
    labels = rendered_labels(result)
    top_level = {
        node["name"]
        for node in main["nodes"]
        if node["type"] in {"task", "data"} and not node.get("modular_pipelines")
    }
    assert top_level | set(MODALITIES) <= labels
    assert "measure_modality_importance" in labels and "build_run_report" in labels
    assert "fit_preprocessor" not in labels  # the namespaces start collapsed
    page_text = html.unescape(re.sub(r"<[^>]+>", " ", result.stdout))
    assert all(re.search(rf"\b{layer}\b", page_text) for layer in LAYERS)


def test_expanded_namespaces_show_each_modality_s_own_nodes(served, tmp_path):
    result = browse(
        served + "expanded.html", tmp_path / "profile", "--window-size=1600,1000", "--dump-dom"
    )
    labels = rendered_labels(result)
    assert {"fit_preprocessor", "transform", "validate_table"} <= labels
    assert not set(MODALITIES) & labels


def test_a_screenshot_shows_the_flowchart_left_to_right(served, tmp_path):
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    SCREENSHOT.unlink(missing_ok=True)
    width, height = SCREENSHOT_SIZE
    result = browse(
        served + "left_to_right.html",
        tmp_path / "profile",
        f"--window-size={width},{height}",
        f"--screenshot={SCREENSHOT}",
    )
    assert result.returncode == 0, result.stderr[-2000:]
    with Image.open(SCREENSHOT) as image:
        assert image.size == SCREENSHOT_SIZE
        # A rendered flowchart has labels, edges and layer bands, not a few flat colours.
        assert len(image.convert("RGB").getcolors(maxcolors=1 << 20)) > 200
