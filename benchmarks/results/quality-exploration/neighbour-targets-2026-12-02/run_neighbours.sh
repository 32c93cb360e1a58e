#!/bin/bash
# Train the benchmark's project of TABLE with neighbour_columns.py's columns added as numbers.
# Run from the repository root after `python benchmarks/quality.py --tables TABLE --seeds N`:
#   bash run_neighbours.sh TABLE N [SCRATCH_PROJECT]
# The scratch project (seed N's split) is copied to data/benchmark/trials/TABLE-neighbours-N;
# nothing of the project itself changes. Prints the test metrics.
set -e
table=$1; seed=$2; source=${3:-data/benchmark/runs/$table}
here=$(cd "$(dirname "$0")" && pwd)
trial=$PWD/data/benchmark/trials/$table-neighbours-$seed
rm -rf "$trial"; mkdir -p "$(dirname "$trial")"
cp -r "$source" "$trial"
rm -rf "$trial"/data/quality/0[4-8]_*/*
columns=$(python "$here/neighbour_columns.py" "$table" "$trial/table.parquet" "$source")
python - "$table" "$trial" $columns <<'PY'
import sys
import yaml
sys.path.insert(0, "benchmarks")
from quality_tables import TABLES
table, trial, columns = TABLES[sys.argv[1]], sys.argv[2], sys.argv[3:]
catalog = yaml.safe_load(open(f"{trial}/conf/quality/catalog.yml"))
catalog["raw_table"]["filepath"] = f"{trial}/table.parquet"
yaml.safe_dump(catalog, open(f"{trial}/conf/quality/catalog.yml", "w"), sort_keys=False)
parameters = yaml.safe_load(open(f"{trial}/conf/quality/parameters.yml"))
parameters["numerical"]["columns"] = [*table.columns["numerical"], *columns]
yaml.safe_dump(parameters, open(f"{trial}/conf/quality/parameters.yml", "w"), sort_keys=False)
PY
cd "$trial"
KEDRO_DISABLE_TELEMETRY=1 TF_CPP_MIN_LOG_LEVEL=3 python -m kedro run --to-nodes collect_metrics \
  --env quality --params "seed=$seed" > "$trial.log" 2>&1
python -c "
import glob, json
path = sorted(glob.glob('data/quality/08_reporting/metrics.json/*/metrics.json'))[-1]
print('$table', 'seed $seed', 'neighbours', json.dumps(json.load(open(path))['model']))
"
