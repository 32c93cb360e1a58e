#!/bin/bash
# Train the benchmark's project of TABLE on seed SEED's split with `neighbours.columns` set.
# Run from the repository root after `python benchmarks/quality.py --tables TABLE --seeds SEED`
# (its scratch project holds that seed's split):
#   bash run_option.sh NAME SEED TABLE "COLUMN,COLUMN,..." [SCRATCH_PROJECT]
# NEIGHBOURS='{"separator": "|"}' (JSON) sets other neighbours options.
# The scratch project is copied to data/benchmark/trials/option-NAME-SEED with this
# checkout's conf/base and src, its table read from data/benchmark/tables, and run as the
# benchmark runs it. Prints the test metric.
set -e
name=$1; seed=$2; table=$3; columns=$4; source=${5:-data/benchmark/runs/$table}
root=$PWD
trial=$root/data/benchmark/trials/option-$name-$seed
rm -rf "$trial"; mkdir -p "$trial/data"
cp -r "$source/conf" "$source/pyproject.toml" "$trial/"
cp -r "$source/data/quality" "$trial/data/"
rm -rf "$trial"/data/quality/0[4-8]_*/*
rm -rf "$trial/conf/base"; cp -r conf/base "$trial/conf/base"; cp -r src "$trial/src"
python - "$trial" "$table" "$columns" "$root" <<'PY'
import json
import os
import sys
import yaml
sys.path.insert(0, "benchmarks")
from quality_tables import TABLES
trial, table, root = sys.argv[1], TABLES[sys.argv[2]], sys.argv[4]
columns = [column for column in sys.argv[3].split(",") if column]
catalog = yaml.safe_load(open(f"{trial}/conf/quality/catalog.yml"))
catalog["raw_table"]["filepath"] = f"{root}/data/benchmark/tables/{table.name}/table.parquet"
yaml.safe_dump(catalog, open(f"{trial}/conf/quality/catalog.yml", "w"), sort_keys=False)
parameters = yaml.safe_load(open(f"{trial}/conf/quality/parameters.yml"))
parameters["numerical"]["columns"] = list(table.columns["numerical"])
parameters["neighbours"] = {"columns": columns, **json.loads(os.environ.get("NEIGHBOURS") or "{}")}
yaml.safe_dump(parameters, open(f"{trial}/conf/quality/parameters.yml", "w"), sort_keys=False)
PY
cd "$trial"
KEDRO_DISABLE_TELEMETRY=1 TF_CPP_MIN_LOG_LEVEL=3 python -m kedro run --to-nodes collect_metrics \
  --env quality --params "seed=$seed" > "$trial.log" 2>&1
python -c "
import glob, json
path = sorted(glob.glob('data/quality/08_reporting/metrics.json/*/metrics.json'))[-1]
print('$table', 'seed $seed', '$name', json.dumps(json.load(open(path))['model']))
"
