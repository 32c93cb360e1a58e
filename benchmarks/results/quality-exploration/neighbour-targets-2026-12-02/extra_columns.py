"""Trial columns for movies: what the training films near a film scored, as numbers.

Run from the repository root after ``python benchmarks/quality.py --tables movies --seeds N``
(its scratch project holds seed N's split):

    python extra_columns.py VARIANT OUT.parquet [SCRATCH_PROJECT]

It writes the benchmark's movies table with extra numerical columns, each computed from
the training rows of the scratch project's split only. A training row's value comes from
the other four fifths of the training rows (``KFold(5, shuffle=True, random_state=0)``),
every other row's from all training rows. VARIANT names the columns, joined by ``_``:

- ``counts``: per `Director`, `Production`, `Writer` and `Cast` (comma-separated names), the
  largest and the mean log1p of how many training films hold each of the row's names;
- ``knn``: the mean Meter of the 10 and of the 50 training films nearest in the TF-IDF space
  of the row's director, writers and cast (each full name one token; cosine distance;
  weighted by similarity);
- ``kern``: the same names, all training films, weighted by similarity squared, with a
  prior of weight 0.1 at the training mean (kernel regression: no nearest-k cut, no ties),
  and the log1p of the weights' sum;
- ``kcols``: ``kern`` per text column (`Title`, `Genre`, `Writer`, `Cast`) over its words
  and word pairs, as the project's text modality reads them;
- ``kall``: ``kern`` over one token per category, name and genre of every column, and the
  release year's five-year span.
"""

import sys
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.model_selection import KFold
from sklearn.neighbors import NearestNeighbors
from sklearn.preprocessing import normalize

TABLE = Path("data/benchmark/tables/movies/table.parquet")
variant, out = sys.argv[1], Path(sys.argv[2])
run = Path(sys.argv[3] if len(sys.argv) > 3 else "data/benchmark/runs/movies") / "data/quality"

raw = pd.read_parquet(TABLE)
primary = pd.read_parquet(run / "03_primary/primary_table.parquet")
split = pd.read_parquet(run / "03_primary/split_assignments.parquet").set_index("row_id").split
split = split.loc[primary.row_id].to_numpy()
train = split == "train"
train_rows = np.flatnonzero(train)
y = raw.Meter.to_numpy(float)
mean = y[train].mean()
FOLDS = list(KFold(5, shuffle=True, random_state=0).split(train_rows))


def names(cell):
    missing = cell is None or (isinstance(cell, float) and np.isnan(cell))
    return [] if missing else [n.strip() for n in str(cell).split(",") if n.strip()]


def out_of_fold(fit_predict):
    """fit_predict(fit_rows, rows) -> tuple of arrays; training rows out of fold."""
    values = None
    for inner, held in FOLDS:
        got = fit_predict(train_rows[inner], train_rows[held])
        values = values or [np.full(len(raw), np.nan) for _ in got]
        for array, part in zip(values, got, strict=True):
            array[train_rows[held]] = part
    for array, part in zip(values, fit_predict(train_rows, np.flatnonzero(~train)), strict=True):
        array[~train] = part
    return values


def kernel(doc, **vectorizer):
    """Kernel regression over TF-IDF cosine similarity squared, prior 0.1 at the mean."""

    def fit_predict(fit_rows, rows):
        tfidf = TfidfVectorizer(sublinear_tf=True, **vectorizer).fit(doc.iloc[fit_rows])
        known = normalize(tfidf.transform(doc.iloc[fit_rows]))
        asked = normalize(tfidf.transform(doc.iloc[rows]))
        weights = (asked @ known.T).tocsr()
        weights.data **= 2
        total = np.asarray(weights.sum(1)).ravel()
        return (weights @ y[fit_rows] + 0.1 * mean) / (total + 0.1), np.log1p(total)

    return out_of_fold(fit_predict)


extra = {}
parts = variant.split("_")
whole_names = raw.Director.fillna("") + "," + raw.Writer.fillna("") + "," + raw.Cast.fillna("")
whole_names = whole_names.map(lambda s: " ".join(n.replace(" ", "_") for n in names(s)))
if "counts" in parts:
    for column in ["Director", "Production", "Writer", "Cast"]:
        lists = raw[column].map(names)
        seen = pd.Series([n for row in lists[train] for n in row]).value_counts()
        per_row = lists.map(lambda row, seen=seen: [seen.get(n, 0) for n in row])
        extra[f"{column}_n_max"] = np.log1p(per_row.map(lambda c: max(c) if c else np.nan))
        extra[f"{column}_n_mean"] = np.log1p(per_row.map(lambda c: np.mean(c) if c else np.nan))
if "knn" in parts:
    for k in (10, 50):

        def fit_predict(fit_rows, rows, k=k):
            tfidf = TfidfVectorizer(token_pattern=r"\S+", sublinear_tf=True)
            known = tfidf.fit_transform(whole_names.iloc[fit_rows])
            search = NearestNeighbors(n_neighbors=k, metric="cosine").fit(known)
            distance, index = search.kneighbors(tfidf.transform(whole_names.iloc[rows]))
            weight = np.clip(1 - distance, 1e-6, None)
            return ((y[fit_rows][index] * weight).sum(1) / weight.sum(1),)

        (extra[f"names_knn{k}"],) = out_of_fold(fit_predict)
if "kern" in parts:
    extra["names_kern"], extra["names_kern_mass"] = kernel(whole_names, token_pattern=r"\S+")
if "kcols" in parts:
    for column in ["Title", "Genre", "Writer", "Cast"]:
        score, mass = kernel(raw[column].fillna(""), ngram_range=(1, 2))
        extra[f"{column}_kern"], extra[f"{column}_kern_mass"] = score, mass
if "kall" in parts:
    spread = ["Rating", "Language", "Country", "Production", "Director", "Writer", "Cast", "Genre"]

    def tokens(row):
        held = [f"{c}={n.replace(' ', '_')}" for c in spread for n in names(row[c])]
        return " ".join([*held, f"Year={int(row['Year']) // 5}"])

    every = raw.apply(tokens, axis=1)
    extra["all_kern"], extra["all_kern_mass"] = kernel(every, token_pattern=r"\S+", lowercase=False)
table = raw.copy()
for name, values in extra.items():
    table[name] = np.asarray(values, dtype=float)
table.to_parquet(out)
print(" ".join(extra))
