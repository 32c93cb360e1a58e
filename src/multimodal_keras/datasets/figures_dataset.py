"""``FiguresDataset``: matplotlib figures saved as PNG, loaded back as PNG bytes, and
previewed in kedro-viz even as a folder.

kedro-datasets' ``MatplotlibDataset`` saves a dict of figures as a folder of PNGs, but it
cannot load them and its preview cannot open a folder. This subclass saves exactly as
``MatplotlibDataset`` does (atomically), loads what it saved as PNG bytes (the run report
embeds them), and previews a folder as its PNGs side by side.
"""

from __future__ import annotations

import base64
import io
from pathlib import PurePosixPath

from kedro.io.core import get_filepath_str
from kedro_datasets._typing import ImagePreview
from PIL import Image

from multimodal_keras.datasets.atomic_files import MatplotlibDataset

WHITE = (255, 255, 255)


def side_by_side(images: list[bytes]) -> bytes:
    """One PNG holding the given PNGs left to right, top-aligned on white."""
    opened = [Image.open(io.BytesIO(raw)).convert("RGB") for raw in images]
    width = sum(image.width for image in opened)
    height = max(image.height for image in opened)
    canvas = Image.new("RGB", (width, height), WHITE)
    left = 0
    for image in opened:
        canvas.paste(image, (left, 0))
        left += image.width
    buffer = io.BytesIO()
    canvas.save(buffer, format="PNG")
    return buffer.getvalue()


class FiguresDataset(MatplotlibDataset):
    """Saves one figure, a list or a dict of figures as PNG; loads them as PNG bytes;
    previews a folder as one image.

    kedro-datasets' ``matplotlib.MatplotlibDataset`` cannot stand in: it neither loads,
    previews a folder, nor saves atomically.

    Example catalog entry::

        evaluation_figures:
          type: multimodal_keras.datasets.figures_dataset.FiguresDataset
          filepath: data/08_reporting/evaluation_figures
          versioned: true
    """

    def load(self) -> bytes | dict[str, bytes]:
        """The saved PNG, or a folder's PNGs by file name in name order, as bytes."""
        load_path = get_filepath_str(self._get_load_path(), self._protocol)
        if not self._fs.isdir(load_path):
            return self._read(load_path)
        return {PurePosixPath(path).name: self._read(path) for path in self._pngs(load_path)}

    def preview(self) -> ImagePreview:
        """The figure, or every PNG of the folder in name order, as one base64 PNG."""
        load_path = get_filepath_str(self._get_load_path(), self._protocol)
        if not self._fs.isdir(load_path):
            return super().preview()
        images = [self._read(path) for path in self._pngs(load_path)]
        return ImagePreview(base64.b64encode(side_by_side(images)).decode("ascii"))

    def _pngs(self, folder: str) -> list[str]:
        return sorted(path for path in self._fs.ls(folder, detail=False) if path.endswith(".png"))

    def _read(self, path: str) -> bytes:
        with self._fs.open(path, mode="rb") as stream:
            return stream.read()
