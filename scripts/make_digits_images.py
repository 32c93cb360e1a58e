"""Write scikit-learn's 8x8 digits as PNG files plus the index table of the ``digits`` environment.

scikit-learn ships the 1,797 images (UCI optical recognition of handwritten digits, 16
grey levels); each becomes a greyscale PNG under ``image.root``/``source.image_folder``.
The index table, saved through the ``raw_table`` entry of ``conf/digits/catalog.yml``,
holds one row per image: the PNG's path relative to ``image.root`` (the path source),
the share of the image's pixels that carry ink (a number a scanner could report beside
each image), and the digit. Column names come from ``conf/digits/parameters.yml``.
Run from anywhere, once: ``python scripts/make_digits_images.py``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from _project import PROJECT, project_context
from PIL import Image
from sklearn.datasets import load_digits

ENVIRONMENT = "digits"


def main() -> None:
    digits = load_digits()
    grey_levels = float(digits.images.max())
    with project_context(ENVIRONMENT) as context:
        params = context.params
        source = params["source"]
        folder = PROJECT / params["image"]["root"] / source["image_folder"]
        folder.mkdir(parents=True, exist_ok=True)
        paths = []
        for index, pixels in enumerate(digits.images):
            name = f"{source['image_folder']}/{index:04d}.png"
            scaled = np.rint(pixels / grey_levels * 255).astype(np.uint8)
            Image.fromarray(scaled, mode="L").save(folder / f"{index:04d}.png", optimize=True)
            paths.append(name)
        ink = (digits.images / grey_levels > float(source["ink_threshold"])).mean(axis=(1, 2))
        table = pd.DataFrame(
            {
                params["image"]["columns"][0]: paths,
                params["numerical"]["columns"][0]: ink.round(4),
                params["table"]["target"]: digits.target,
            }
        )
        context.catalog.save("raw_table", table)
    print(f"Wrote {len(table)} PNG files under {folder} and their index table.")


if __name__ == "__main__":
    main()
