"""Trial columns for movies: the neighbours kernel over several readings of its columns.

Run from the repository root as ``run_variant.sh`` of the record neighbour-targets-2026-12-02
runs ``extra_columns.py`` (the columns added to ``numerical.columns``):

    python encoded_kernel.py VARIANT OUT.parquet SCRATCH_PROJECT

Kernel: sublinear TF-IDF bags, cosine similarity squared, a prior of weight 0.1 at the
training mean; training rows out of fold (five folds), other rows from all training rows.
VARIANT: ``text`` (the text columns' words and word pairs, as the text modality reads
them), ``catext`` (the categories, those in fewer than five training rows merged, and those
words in one kernel), ``cat_text`` (the same in two kernels), ``catall`` (every category
kept, and the words), ``whole`` (whole names: categories and the comma-split names of
Genre, Writer and Cast), ``wholetitle`` (and the title), ``full`` (``whole``, a kernel per
column and the counts), ``whole_counts`` (``whole`` and, per column, log1p of the largest
and mean number of training rows holding each name).
"""

import sys
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer
from sklearn.model_selection import KFold
from sklearn.preprocessing import normalize

variant, out, run = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3]) / "data/quality"
raw = pd.read_parquet("data/benchmark/tables/movies/table.parquet")
primary = pd.read_parquet(run / "03_primary/primary_table.parquet")
split = pd.read_parquet(run / "03_primary/split_assignments.parquet").set_index("row_id").split
split = split.loc[primary.row_id].to_numpy()
train_rows = np.flatnonzero(split == "train")
y = raw.Meter.to_numpy(float)[:, None]
prior = y[train_rows].mean(0)
CAT = ["Rating", "Director", "Language", "Country", "Production"]
TEXT = ["Title", "Genre", "Writer", "Cast"]


def cat_matrix(keep_all):
    parts = []
    for c in CAT:
        v = raw[c].astype("string").fillna("<missing>")
        counts = v.iloc[train_rows].value_counts()
        if not keep_all:
            v = v.where(v.map(counts).fillna(0).to_numpy() >= 5, "<rare>")
        codes, uniq = pd.factorize(v)
        parts.append(
            sparse.csr_matrix(
                (np.ones(len(v)), (np.arange(len(v)), codes)), shape=(len(v), len(uniq))
            )
        )
    return sparse.hstack(parts).tocsr()


def text_matrix():
    parts = []
    for c in TEXT:
        texts = raw[c].astype("string").fillna("").str.lower().to_numpy()
        vec = CountVectorizer(
            token_pattern=r"\w+|[^\w\s]",
            ngram_range=(1, 2),
            min_df=2,
            max_features=10000,
            lowercase=False,
        )
        vec.fit(texts[train_rows])
        m = vec.transform(texts)
        m = TfidfTransformer(sublinear_tf=True).fit(m[train_rows]).transform(m)
        parts.append(m)
    return sparse.hstack(parts).tocsr()


def idf_weight(m):
    return TfidfTransformer(sublinear_tf=True).fit(m[train_rows]).transform(m)


def kernel(m, name):
    m = normalize(m.tocsr())
    scores, mass = np.full((len(raw), 1), np.nan), np.full(len(raw), np.nan)

    def fp(fit, rows):
        w = (m[rows] @ m[fit].T).tocsr()
        w.data **= 2
        t = np.asarray(w.sum(1)).ravel()
        return (w @ y[fit] + 0.1 * prior) / (t + 0.1)[:, None], np.log1p(t)

    for inner, held in KFold(5, shuffle=True, random_state=0).split(train_rows):
        scores[train_rows[held]], mass[train_rows[held]] = fp(train_rows[inner], train_rows[held])
    rest = np.setdiff1d(np.arange(len(raw)), train_rows)
    scores[rest], mass[rest] = fp(train_rows, rest)
    return {f"{name}_score": scores[:, 0], f"{name}_mass": mass}


def whole_matrix(columns, split_lists=True):
    from sklearn.feature_extraction.text import TfidfVectorizer

    def items(cell):
        if cell is None or (isinstance(cell, float) and np.isnan(cell)):
            return []
        parts = str(cell).split(",") if split_lists else [str(cell)]
        return [p.strip() for p in parts if p.strip()]

    docs = [[] for _ in range(len(raw))]
    for c in columns:
        for i, cell in enumerate(raw[c].astype(object).where(raw[c].notna(), None)):
            docs[i] += [f"{c}={x}" for x in items(cell)]
    vec = TfidfVectorizer(analyzer=lambda d: d, sublinear_tf=True).fit(
        [docs[i] for i in train_rows]
    )
    return vec.transform(docs)


def counts(columns):
    out = {}
    for c in columns:
        lists = (
            raw[c]
            .astype(object)
            .map(
                lambda v: (
                    []
                    if v is None or (isinstance(v, float) and np.isnan(v))
                    else [p.strip() for p in str(v).split(",") if p.strip()]
                )
            )
        )
        seen = pd.Series([n for row in lists.iloc[train_rows] for n in row]).value_counts()
        per = lists.map(lambda row, seen=seen: [seen.get(n, 0) for n in row])
        out[f"{c}_nmax"] = np.log1p(per.map(lambda x: max(x) if x else 0)).to_numpy(float)
        out[f"{c}_nmean"] = np.log1p(per.map(lambda x: np.mean(x) if x else 0)).to_numpy(float)
    return out


WHOLE = CAT + ["Genre", "Writer", "Cast"]
cols = {}
if variant == "full":
    cols.update(kernel(whole_matrix(WHOLE), "kw"))
    for c in WHOLE:
        cols.update(kernel(whole_matrix([c]), f"k{c}"))
    cols.update(counts(WHOLE))
elif variant == "whole_counts":
    cols.update(kernel(whole_matrix(WHOLE), "kw"))
    cols.update(counts(WHOLE))
elif variant == "whole":
    cols.update(kernel(whole_matrix(CAT + ["Genre", "Writer", "Cast"]), "kw"))
elif variant == "wholetitle":
    cols.update(kernel(whole_matrix(CAT + TEXT), "kw"))
if variant == "text":
    cols.update(kernel(text_matrix(), "kt"))
elif variant == "catext":
    cols.update(kernel(sparse.hstack([idf_weight(cat_matrix(False)), text_matrix()]), "kct"))
elif variant == "catall":
    cols.update(kernel(sparse.hstack([idf_weight(cat_matrix(True)), text_matrix()]), "kca"))
elif variant == "cat_text":
    cols.update(kernel(idf_weight(cat_matrix(False)), "kc"))
    cols.update(kernel(text_matrix(), "kt"))
result = raw.copy()
for k, v in cols.items():
    result[k] = v
result.to_parquet(out)
print(" ".join(cols))
