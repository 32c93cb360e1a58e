"""Trial columns for any benchmark table without images: its training rows' targets near each row.

Run from the repository root after ``python benchmarks/quality.py --tables TABLE --seeds N``:

    python neighbour_columns.py TABLE OUT.parquet [SCRATCH_PROJECT]

Every row becomes a bag of tokens: one per categorical value (``column=value``), one per
word of each text column (``column:word``), one per number's decile among the training rows
(``column#d``, ``column#nan`` when missing). Over their sublinear TF-IDF (fitted on the
training rows), each row's similarity to a training row is the cosine squared, and its
columns are the similarity-weighted mean of the training rows' targets with a prior of weight
0.1 at the training mean (kernel regression over all training rows: no nearest-k cut), one
per class for classes, and the log1p of the weights' sum. A training row's values come from
the other four fifths of the training rows (``KFold(5, shuffle=True, random_state=0)``),
every other row's from all training rows. It prints the new columns' names.
"""

import sys
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.model_selection import KFold
from sklearn.preprocessing import normalize

sys.path.insert(0, "benchmarks")
from quality_tables import TABLES  # noqa: E402

table = TABLES[sys.argv[1]]
out = Path(sys.argv[2])
run = Path(sys.argv[3] if len(sys.argv) > 3 else f"data/benchmark/runs/{table.name}")
run = run / "data/quality"

raw = pd.read_parquet(f"data/benchmark/tables/{table.name}/table.parquet")
primary = pd.read_parquet(run / "03_primary/primary_table.parquet")
split = pd.read_parquet(run / "03_primary/split_assignments.parquet").set_index("row_id").split
split = split.loc[primary.row_id].to_numpy()
train = split == "train"
train_rows = np.flatnonzero(train)

if table.task == "regression":
    targets = raw[table.target].to_numpy(float)[:, None]
    names = ["neighbours"]
else:
    labels = raw[table.target].astype(str)
    classes = sorted(labels[train].unique())
    targets = np.stack([(labels == c).to_numpy(float) for c in classes], axis=1)
    names = [f"neighbours_{i}" for i in range(len(classes))]
    if len(classes) == 2:
        targets, names = targets[:, 1:], names[1:]
prior = targets[train].mean(0)

tokens = pd.Series([""] * len(raw))
for column in table.columns["categorical"]:
    values = raw[column].astype("string").fillna("<missing>").str.replace(r"\s+", "_", regex=True)
    tokens = tokens + " " + column.replace(" ", "_") + "=" + values
for column in table.columns["text"]:
    words = raw[column].astype("string").fillna("").str.lower().str.findall(r"\w+")
    tokens = tokens + " " + words.map(lambda ws, c=column: " ".join(f"{c}:{w}" for w in ws))
for column in table.columns["numerical"]:
    values = pd.to_numeric(raw[column], errors="coerce")
    edges = np.unique(np.nanquantile(values[train], np.linspace(0.1, 0.9, 9)))
    decile = np.searchsorted(edges, values.to_numpy(), side="right").astype(str)
    decile = np.where(values.isna(), "nan", decile)
    tokens = tokens + " " + column.replace(" ", "_") + "#" + pd.Series(decile)


def fit_predict(fit_rows, rows):
    tfidf = TfidfVectorizer(token_pattern=r"\S+", lowercase=False, sublinear_tf=True)
    known = normalize(tfidf.fit_transform(tokens.iloc[fit_rows]))
    weights = (normalize(tfidf.transform(tokens.iloc[rows])) @ known.T).tocsr()
    weights.data **= 2
    total = np.asarray(weights.sum(1)).ravel()
    scores = (weights @ targets[fit_rows] + 0.1 * prior) / (total + 0.1)[:, None]
    return scores, np.log1p(total)


scores = np.full((len(raw), targets.shape[1]), np.nan)
mass = np.full(len(raw), np.nan)
for inner, held in KFold(5, shuffle=True, random_state=0).split(train_rows):
    scores[train_rows[held]], mass[train_rows[held]] = fit_predict(
        train_rows[inner], train_rows[held]
    )
rest = np.flatnonzero(~train)
scores[rest], mass[rest] = fit_predict(train_rows, rest)
result = raw.copy()
for index, name in enumerate(names):
    result[name] = scores[:, index]
result["neighbours_mass"] = mass
result.to_parquet(out)
print(" ".join([*names, "neighbours_mass"]))
