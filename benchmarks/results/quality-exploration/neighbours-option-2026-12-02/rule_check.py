"""Which columns `neighbours.columns: auto` reads on each benchmark table, and why.

Run from the repository root after `python benchmarks/quality_tables.py`:

    python benchmarks/results/quality-exploration/neighbours-option-2026-12-02/rule_check.py

Each table's categorical and text columns (as the benchmark configures them) are the
candidates; a seeded 65 % sample of its rows stands in for the training rows; the rule
and its thresholds are conf/base's. Prints the columns read and each candidate's figures.
"""

import sys
from pathlib import Path

import pandas as pd
import yaml

sys.path.insert(0, "benchmarks")
from quality_tables import TABLES  # noqa: E402

from multimodal_keras.modalities import neighbours  # noqa: E402

conf = Path("conf/base/parameters_features.yml").read_text()
options = yaml.safe_load(conf)["neighbours"]
for name, table in TABLES.items():
    rows = pd.read_parquet(f"data/benchmark/tables/{name}/table.parquet")
    rows = rows.sample(frac=0.65, random_state=0)
    candidates = dict.fromkeys(table.columns["categorical"], "categorical")
    candidates |= dict.fromkeys(table.columns["text"], "text")
    if not candidates:
        print(f"{name}: no categorical or text column")
        continue
    preprocessor = neighbours.NeighboursPreprocessor(
        columns=list(candidates), separator=options["separator"], max_names=options["max_names"]
    )
    chosen = neighbours.choose_columns(preprocessor, rows, candidates, options["auto"])
    print(f"{name}: reads {chosen or 'nothing (off)'}")
    for column, entry in preprocessor.candidates.items():
        print(f"    {column}: {entry}")
