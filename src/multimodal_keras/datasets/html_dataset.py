"""``HTMLDataset``: one HTML document as a text file, previewed as a page in kedro-viz."""

from __future__ import annotations

from kedro_datasets._typing import HTMLPreview
from kedro_datasets.text import TextDataset

from multimodal_keras.datasets.atomic import AtomicSave


class HTMLDataset(AtomicSave, TextDataset):
    """Loads and saves an HTML document like ``text.TextDataset`` (atomically), with a preview.

    Example catalog entry::

        run_report:
          type: multimodal_keras.datasets.html_dataset.HTMLDataset
          filepath: data/08_reporting/run_report.html
          versioned: true
    """

    def preview(self) -> HTMLPreview:
        """The document itself, which kedro-viz renders in its preview panel."""
        return HTMLPreview(self.load())
