#!/bin/bash
# Train the benchmark's movies project on the table with extra_columns.py's trial columns.
# Run from the repository root after `python benchmarks/quality.py --tables movies --seeds N`:
#   bash run_variant.sh NAME VARIANT N [SCRATCH_PROJECT]
# It copies the scratch project (seed N's split) to data/benchmark/trials/NAME, adds the
# columns to its table and to numerical.columns, runs it as the benchmark does, and prints
# the test metrics. Nothing of the project itself changes.
set -e
name=$1; variant=$2; seed=$3; source=${4:-data/benchmark/runs/movies}
here=$(cd "$(dirname "$0")" && pwd)
trial=$PWD/data/benchmark/trials/$name
rm -rf "$trial"; mkdir -p "$(dirname "$trial")"
cp -r "$source" "$trial"
rm -rf "$trial"/data/quality/0[4-8]_*/*
columns=$(python "$here/extra_columns.py" "$variant" "$trial/table.parquet" "$source")
python - "$trial" $columns <<'PY'
import sys
import yaml
trial, columns = sys.argv[1], sys.argv[2:]
catalog = yaml.safe_load(open(f"{trial}/conf/quality/catalog.yml"))
catalog["raw_table"]["filepath"] = f"{trial}/table.parquet"
yaml.safe_dump(catalog, open(f"{trial}/conf/quality/catalog.yml", "w"), sort_keys=False)
parameters = yaml.safe_load(open(f"{trial}/conf/quality/parameters.yml"))
parameters["numerical"]["columns"] = ["Year", "Runtime", "Oscars", "Reviews", "BoxOffice", *columns]
yaml.safe_dump(parameters, open(f"{trial}/conf/quality/parameters.yml", "w"), sort_keys=False)
PY
cd "$trial"
KEDRO_DISABLE_TELEMETRY=1 TF_CPP_MIN_LOG_LEVEL=3 python -m kedro run --to-nodes collect_metrics \
  --env quality --params "seed=$seed" > "$trial.log" 2>&1
python -c "
import glob, json
path = sorted(glob.glob('data/quality/08_reporting/metrics.json/*/metrics.json'))[-1]
print('$name', 'seed $seed', 'test RMSE', json.load(open(path))['model']['rmse'])
"
