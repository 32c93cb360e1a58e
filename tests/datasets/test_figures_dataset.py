"""FiguresDataset: saves like MatplotlibDataset; previews a folder of figures as one image."""

from __future__ import annotations

import base64
import io

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
from kedro.io.core import Version  # noqa: E402
from PIL import Image  # noqa: E402

from multimodal_keras.datasets.figures_dataset import FiguresDataset  # noqa: E402

DPI = 50


def figure(width: float, height: float):
    created, axis = plt.subplots(figsize=(width, height))
    axis.plot([0, 1], [0, 1])
    plt.close(created)
    return created


def previewed(dataset: FiguresDataset) -> Image.Image:
    return Image.open(io.BytesIO(base64.b64decode(dataset.preview())))


def test_a_folder_of_figures_previews_as_one_image_side_by_side(tmp_path):
    dataset = FiguresDataset(
        filepath=str(tmp_path / "figures"), save_args={"dpi": DPI}, version=Version(None, None)
    )
    dataset.save({"a.png": figure(2, 2), "b.png": figure(3, 2)})
    image = previewed(dataset)
    assert image.size == (5 * DPI, 2 * DPI)


def test_a_single_figure_previews_as_itself(tmp_path):
    dataset = FiguresDataset(filepath=str(tmp_path / "one.png"), save_args={"dpi": DPI})
    dataset.save(figure(2, 3))
    assert previewed(dataset).size == (2 * DPI, 3 * DPI)


def test_saved_figures_load_as_the_png_bytes_on_disk(tmp_path):
    folder = FiguresDataset(filepath=str(tmp_path / "figures"), version=Version(None, None))
    folder.save({"b.png": figure(2, 2), "a.png": figure(3, 2)})
    one = FiguresDataset(filepath=str(tmp_path / "one.png"))
    one.save(figure(2, 3))

    loaded = folder.load()

    (version,) = (tmp_path / "figures").iterdir()
    assert list(loaded) == ["a.png", "b.png"]
    assert loaded["a.png"] == (version / "figures" / "a.png").read_bytes()
    assert one.load() == (tmp_path / "one.png").read_bytes()
