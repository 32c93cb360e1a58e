"""What one pathological cell costs: a huge text cell, and an image bomb sent to serving.

Each case is measured beside a normal one in this process (wall seconds and the peak
resident memory the call added, from ``measure.measure``), median of ``--repeats`` runs:

- ``text.transform`` of a table of ``--rows`` short texts, then the same table with one cell
  of ``--cell-mib`` MiB (cut to the column's character budget before tokenising);
- the serving graph's image layers on a normal 32x32 PNG, then on a real 1-bit PNG of
  20000x20000 pixels (refused from its header before any decoding).

    python benchmarks/bad_cells.py
    python benchmarks/bad_cells.py --rows 2000 --cell-mib 1 --repeats 3
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
from pathlib import Path

import keras
import numpy as np
import pandas as pd
import tensorflow as tf
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
from measure import measure  # noqa: E402

from multimodal_keras.modalities import image, text  # noqa: E402
from multimodal_keras.modalities.base import ROW_ID  # noqa: E402
from multimodal_keras.parameters import schema  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def base_options(block: str) -> dict:
    """The block's defaults from conf/base, as a user gets them."""
    import yaml

    for path in sorted((ROOT / "conf" / "base").glob("parameters*.yml")):
        loaded = yaml.safe_load(path.read_text()) or {}
        if block in loaded:
            return dict(loaded[block])
    raise SystemExit(f"no {block} block in conf/base")


def texts(rows: int, huge_mib: float) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    words = np.array(["red", "blue", "shoe", "hat", "boxed", "used", "new", "cheap"])
    cells = [" ".join(rng.choice(words, 12)) for _ in range(rows)]
    if huge_mib:
        cells[0] = ("word " * int(huge_mib * 1024 * 1024 / 5))[: int(huge_mib * 1024 * 1024)]
    return pd.DataFrame({ROW_ID: np.arange(rows), "description": cells})


def png(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


def bomb_png(width: int, height: int) -> bytes:
    """A real 1-bit PNG of width x height black pixels: a few hundred KiB that decode to
    width x height x channels bytes."""
    buffer = io.BytesIO()
    Image.new("1", (width, height)).save(buffer, format="PNG")
    return buffer.getvalue()


def median_of(call, repeats: int) -> tuple[float, float]:
    runs = [measure(call) for _ in range(repeats)]
    return (
        statistics.median(run.seconds for run in runs),
        statistics.median(run.peak_above_mib for run in runs),
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--cell-mib", type=float, default=1.0)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)

    options = base_options("text") | {"columns": ["description"]}
    schema()  # the parameters' schema loads as in a run
    preprocessor = text.fit(texts(args.rows, 0), options)
    normal_table, huge_table = texts(args.rows, 0), texts(args.rows, args.cell_mib)
    normal = median_of(lambda: text.transform(preprocessor, normal_table), args.repeats)
    huge = median_of(lambda: text.transform(preprocessor, huge_table), args.repeats)

    image_options = base_options("image") | {
        "columns": ["photo"],
        "source": "bytes",
        "height": 32,
        "width": 32,
        "channels": 3,
    }
    image_pre = image.fit(pd.DataFrame({ROW_ID: [0], "photo": [png(32, 32)]}), image_options)
    inputs, output = image.build_serving_input("image", image_pre)
    # As in the exported serving model: a graph, whose ops run in any order their
    # dependencies allow.
    decode = tf.function(keras.Model(inputs, output))
    good, bomb = png(32, 32), bomb_png(20000, 20000)

    def serve(encoded: bytes) -> None:
        try:
            decode({"photo": tf.constant([encoded])})
        except tf.errors.InvalidArgumentError as error:
            if "pixels" not in str(error):
                raise

    image_normal = median_of(lambda: serve(good), args.repeats)
    image_bomb = median_of(lambda: serve(bomb), args.repeats)

    print("| case | normal: s, MiB | pathological: s, MiB | extra s | extra MiB |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name, (ns, nm), (ps, pm) in [
        (
            f"text.transform, {args.rows} rows, one {args.cell_mib:g} MiB cell "
            f"(budget {preprocessor.character_budgets()[0]} characters)",
            normal,
            huge,
        ),
        (
            f"serving image layers, one {len(bomb) / 1024:.1f} KiB PNG declaring 20000x20000",
            image_normal,
            image_bomb,
        ),
    ]:
        print(
            f"| {name} | {ns:.3f}, {nm:.0f} | {ps:.3f}, {pm:.0f} | {ps - ns:+.3f} | "
            f"{pm - nm:+.0f} |"
        )


if __name__ == "__main__":
    main()
