"""Quality benchmark: the project's Keras model beside classical references on real tables.

For each table of ``quality_tables.TABLES`` and each seed, a scratch copy of the project
gets an environment holding only what a user writes from the README (the table, its
target, the columns of each modality and, for images, where they are), and
``kedro run --to-nodes collect_metrics`` trains the model and the project's baseline on
one split. On the same rows of the same split the benchmark then fits:

- ``hist_gradient_boosting``: scikit-learn's HistGradientBoosting, categories native
  (the most frequent ``max_bins - 1`` per column; rarer ones share a code), missing values
  native, text as a TF-IDF reduced by truncated SVD, images averaged down to a few pixels;
- ``tfidf_linear`` (tables with text): TF-IDF of each text column (words and word pairs),
  one-hot categories and scaled numbers into logistic regression (ridge for regression),
  its penalty chosen on the validation rows.

Every reference is fitted on the training rows only and scored on the test rows, as the
model is. The headline metric is ROC AUC (binary), accuracy (multiclass) or RMSE
(regression). ``python benchmarks/quality.py`` prints mean ± sd per system and writes
JSON and Markdown under ``benchmarks/results/``.

    python benchmarks/quality.py                          # every table, seeds 0 1 2
    python benchmarks/quality.py --tables adult --seeds 0 --params model.wide.enabled=false

With ``--tune-minutes M`` each table is also searched (``kedro run --pipelines tuning``, M
minutes of training) and retrained with the best settings (``training.use_tuned=true``),
scored beside the defaults as ``keras_tuned``. With ``--split-seed N`` every run keeps
seed N's split and the seeds vary only the initial weights and the training order; one
search then serves every seed, and the test rows it never reads are the ones every run is
scored on. Without it each seed's split gets its own search.

    python benchmarks/quality.py --tables adult ames --split-seed 0 --tune-minutes 10
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml
from PIL import Image
from scipy import sparse
from sklearn.decomposition import TruncatedSVD
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.metrics import accuracy_score, mean_squared_error, roc_auc_score
from sklearn.preprocessing import OneHotEncoder, StandardScaler

sys.path.insert(0, str(Path(__file__).resolve().parent))
from quality_tables import DEFAULT_ROOT, TABLES, BenchmarkTable, materialise  # noqa: E402

from multimodal_keras.config_loader import data_folder_for  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
SCRATCH = ROOT / "data" / "benchmark" / "runs"
LOGS = ROOT / "data" / "benchmark" / "logs"
ENVIRONMENT = "quality"
DATA_LAYERS = [
    "01_raw", "02_intermediate", "03_primary", "04_feature",
    "05_model_input", "06_models", "07_model_output", "08_reporting",
]  # fmt: skip
HEADLINE = {"binary": "roc_auc", "multiclass": "accuracy", "regression": "rmse"}
LOWER_IS_BETTER = {"rmse"}
SYSTEMS = ("keras_model", "project_baseline", "hist_gradient_boosting", "tfidf_linear")
TUNED = "keras_tuned"
# The search's trials are bounded by --tune-minutes alone.
UNBOUNDED_TRIALS = 10_000
# The classical references' settings: strong, standard choices, not tuned per table.
HGB = {"max_iter": 1000, "learning_rate": 0.05, "early_stopping": True,
       "validation_fraction": 0.1, "n_iter_no_change": 30, "max_bins": 255}  # fmt: skip
TFIDF = {"ngram_range": (1, 2), "min_df": 2, "max_features": 100_000, "sublinear_tf": True}
SVD_COMPONENTS = 64
LINEAR_PENALTIES = [0.1, 0.3, 1.0, 3.0, 10.0, 30.0]  # C of logistic regression; 1/alpha of ridge
IMAGE_SIZE = (8, 8)
# A table "falls short" within this share of the best reference's headline figure.
SHORTFALL = 0.005


def scratch_project(table: BenchmarkTable, parquet: Path) -> Path:
    """A scratch copy of the project whose ``quality`` environment describes ``table``."""
    project = SCRATCH / table.name
    if project.exists():
        shutil.rmtree(project)
    project.mkdir(parents=True)
    for name in ("pyproject.toml", ".telemetry"):
        shutil.copy2(ROOT / name, project / name)
    shutil.copytree(ROOT / "conf" / "base", project / "conf" / "base")
    (project / "conf" / "local").mkdir()
    shutil.copy2(ROOT / "conf" / "logging.yml", project / "conf" / "logging.yml")
    shutil.copytree(ROOT / "src", project / "src", ignore=shutil.ignore_patterns("__pycache__"))
    for layer in DATA_LAYERS:
        (project / "data" / layer).mkdir(parents=True, exist_ok=True)
        (project / data_folder_for(ENVIRONMENT) / layer).mkdir(parents=True, exist_ok=True)
    environment = project / "conf" / ENVIRONMENT
    environment.mkdir()
    catalog = {
        "raw_table": {
            "type": "pandas.ParquetDataset",
            "filepath": str(parquet),
            "metadata": {"kedro-viz": {"layer": "raw", "preview": False}},
        }
    }
    # Only what a user writes from the README: the target and each modality's columns.
    parameters: dict[str, Any] = {"table": {"target": table.target}}
    for modality, columns in table.columns.items():
        parameters[modality] = {"columns": list(columns)}
    if table.columns["image"]:
        parameters["image"].update(source=table.image_source, root=str(parquet.parent))
    (environment / "catalog.yml").write_text(yaml.safe_dump(catalog, sort_keys=False))
    (environment / "parameters.yml").write_text(yaml.safe_dump(parameters, sort_keys=False))
    return project


def run_params(seed: int, split_seed: int | None, *extra: str | None) -> str:
    """The ``--params`` of one run: the seed, the fixed split's seed and any extras."""
    given = [f"seed={seed}", *([f"split.seed={split_seed}"] if split_seed is not None else [])]
    return ",".join([*given, *(value for value in extra if value)])


def kedro(project: Path, arguments: list[str], log_name: str) -> float:
    """``kedro <arguments> --env quality`` in ``project``; its wall seconds, its output logged."""
    command = [sys.executable, "-m", "kedro", *arguments, "--env", ENVIRONMENT]
    environment = dict(os.environ, KEDRO_DISABLE_TELEMETRY="1", TF_CPP_MIN_LOG_LEVEL="3")
    start = time.perf_counter()
    done = subprocess.run(
        command, cwd=project, env=environment, capture_output=True, text=True, check=False
    )
    seconds = time.perf_counter() - start
    LOGS.mkdir(parents=True, exist_ok=True)
    (LOGS / f"{project.name}-{log_name}.log").write_text(done.stdout + done.stderr)
    if done.returncode:
        tail = (done.stdout + done.stderr)[-3000:]
        raise RuntimeError(f"kedro {' '.join(arguments)} failed in {project}:\n{tail}")
    return seconds


def tune_project(
    project: Path, seed: int, split_seed: int | None, minutes: float, extra_params: str | None
) -> float:
    """``kedro run --pipelines tuning`` on what the last run saved; its wall seconds."""
    budget = f"tuning.budget_minutes={minutes},tuning.max_trials={UNBOUNDED_TRIALS}"
    params = run_params(seed, split_seed, extra_params, budget)
    return kedro(project, ["run", "--pipelines", "tuning", "--params", params], f"tune{seed}")


def run_project(project: Path, params: str, log_name: str) -> dict[str, Any]:
    """``kedro run`` up to the metrics in ``project``; its metrics, timings and wall time."""
    seconds = kedro(project, ["run", "--to-nodes", "collect_metrics", "--params", params], log_name)
    metrics = latest_json(project / data_folder_for(ENVIRONMENT) / "08_reporting" / "metrics.json")
    timings = latest_json(
        project / data_folder_for(ENVIRONMENT) / "08_reporting" / "run_timings.json"
    )
    node_seconds = {row["node"]: row["seconds"] for row in timings.get("nodes", [])}
    history = latest_json(
        project / data_folder_for(ENVIRONMENT) / "08_reporting" / "training_history.json"
    )
    return {
        "metrics": metrics,
        "wall_seconds": seconds,
        "train_seconds": node_seconds.get("train_model"),
        "epochs": len(history.get("loss", [])),
    }


def latest_json(path: Path) -> dict[str, Any]:
    """A JSON dataset's content, from its latest version when it is versioned."""
    if path.is_dir():
        path = sorted(path.iterdir())[-1] / path.name
    return json.loads(path.read_text()) if path.exists() else {}


def split_rows(project: Path, table: BenchmarkTable) -> dict[str, pd.DataFrame]:
    """The primary table's rows of each split, exactly as the run split them."""
    primary = pd.read_parquet(
        project / data_folder_for(ENVIRONMENT) / "03_primary" / "primary_table.parquet"
    )
    splits = pd.read_parquet(
        project / data_folder_for(ENVIRONMENT) / "03_primary" / "split_assignments.parquet"
    )
    rows = primary.merge(splits, on="row_id", how="inner")
    rows = rows[rows[table.target].notna()]
    return {name: part for name, part in rows.groupby("split")}


def image_pixels(rows: pd.DataFrame, table: BenchmarkTable, root: Path) -> np.ndarray:
    """Every image column averaged down to ``IMAGE_SIZE`` RGB pixels, flattened, in [0, 1]."""
    blocks = []
    for column in table.columns["image"]:
        values = []
        for cell in rows[column]:
            source = root / str(cell) if table.image_source == "path" else io.BytesIO(bytes(cell))
            with Image.open(source) as image:
                small = image.convert("RGB").resize(IMAGE_SIZE, Image.Resampling.BOX)
                values.append(np.asarray(small, dtype=np.float32).reshape(-1) / 255.0)
        blocks.append(np.stack(values))
    return np.hstack(blocks)


def texts(rows: pd.DataFrame, column: str) -> list[str]:
    return rows[column].astype("string").fillna("").astype(str).tolist()


def headline(task: str, y_true: np.ndarray, scores: np.ndarray, classes: np.ndarray) -> float:
    """The task's headline metric of predicted scores (probabilities, or values)."""
    if task == "binary":
        return float(roc_auc_score(y_true == classes[1], scores[:, 1]))
    if task == "multiclass":
        return float(accuracy_score(y_true, classes[np.argmax(scores, axis=1)]))
    return float(np.sqrt(mean_squared_error(y_true, scores)))


def hist_gradient_boosting(
    table: BenchmarkTable, splits: Mapping[str, pd.DataFrame], root: Path, seed: int
) -> float:
    """HistGradientBoosting on the train rows, scored on the test rows."""
    train, test = splits["train"], splits["test"]
    frames = {"train": pd.DataFrame(index=train.index), "test": pd.DataFrame(index=test.index)}
    for column in table.columns["categorical"]:
        values = {name: part[column].astype("string") for name, part in splits.items()}
        kept = values["train"].value_counts().index[: HGB["max_bins"] - 1]
        dtype = pd.CategoricalDtype(list(kept))
        for name, frame in frames.items():
            # Categories beyond the kept ones are missing, as HistGradientBoosting reads them.
            known = values[name].where(values[name].isin(kept))
            frame[column] = known.astype(object).astype(dtype)
    for column in table.columns["numerical"]:
        for name, part in (("train", train), ("test", test)):
            frames[name][column] = pd.to_numeric(part[column], errors="coerce").astype(float)
    for column in table.columns["text"]:
        vectorizer = TfidfVectorizer(**TFIDF).fit(texts(train, column))
        terms = vectorizer.transform(texts(train, column))
        components = min(SVD_COMPONENTS, terms.shape[1] - 1)
        svd = TruncatedSVD(components, random_state=seed).fit(terms)
        for name, part in (("train", train), ("test", test)):
            reduced = svd.transform(vectorizer.transform(texts(part, column)))
            names = [f"{column}_svd{index}" for index in range(reduced.shape[1])]
            frames[name] = frames[name].join(pd.DataFrame(reduced, part.index, names))
    if table.columns["image"]:
        for name, part in (("train", train), ("test", test)):
            pixels = image_pixels(part, table, root)
            names = [f"pixel{index}" for index in range(pixels.shape[1])]
            frames[name] = frames[name].join(pd.DataFrame(pixels, part.index, names))
    options = dict(HGB, random_state=seed, categorical_features="from_dtype")
    y_train = train[table.target]
    if table.task == "regression":
        model = HistGradientBoostingRegressor(**options).fit(frames["train"], y_train.astype(float))
        truth = test[table.target].astype(float)
        return headline(table.task, truth, model.predict(frames["test"]), None)
    model = HistGradientBoostingClassifier(**options).fit(frames["train"], y_train.astype(str))
    scores = model.predict_proba(frames["test"])
    return headline(table.task, test[table.target].astype(str).to_numpy(), scores, model.classes_)


def tfidf_linear(
    table: BenchmarkTable, splits: Mapping[str, pd.DataFrame], seed: int
) -> float | None:
    """TF-IDF + one-hot + scaled numbers into a linear model, penalty chosen on validation."""
    if not table.columns["text"]:
        return None
    train = splits["train"]
    blocks: dict[str, list[Any]] = {name: [] for name in splits}
    for column in table.columns["text"]:
        vectorizer = TfidfVectorizer(**TFIDF).fit(texts(train, column))
        for name, part in splits.items():
            blocks[name].append(vectorizer.transform(texts(part, column)))
    if table.columns["categorical"]:
        columns = table.columns["categorical"]
        encoder = OneHotEncoder(handle_unknown="ignore", min_frequency=5).fit(
            train[columns].astype("string").fillna("<missing>").astype(str)
        )
        for name, part in splits.items():
            strings = part[columns].astype("string").fillna("<missing>").astype(str)
            blocks[name].append(encoder.transform(strings))
    if table.columns["numerical"]:
        columns = table.columns["numerical"]
        numbers = {n: p[columns].apply(pd.to_numeric, errors="coerce") for n, p in splits.items()}
        medians = numbers["train"].median()
        scaler = StandardScaler().fit(numbers["train"].fillna(medians))
        for name in splits:
            filled = numbers[name].fillna(medians)
            blocks[name].append(sparse.csr_matrix(scaler.transform(filled)))
            blocks[name].append(sparse.csr_matrix(numbers[name].isna().to_numpy(float)))
    features = {name: sparse.hstack(parts).tocsr() for name, parts in blocks.items()}
    best: tuple[float, Any] | None = None
    for penalty in LINEAR_PENALTIES:
        model = _linear(table.task, penalty, seed).fit(features["train"], _target(table, train))
        score = _score(table, model, features["val"], splits["val"])
        better = best is None or (
            score < best[0] if table.task == "regression" else score > best[0]
        )
        if better:
            best = (score, model)
    return _score(table, best[1], features["test"], splits["test"])


def _linear(task: str, penalty: float, seed: int) -> Any:
    if task == "regression":
        return Ridge(alpha=1.0 / penalty)
    return LogisticRegression(C=penalty, max_iter=3000, random_state=seed)


def _target(table: BenchmarkTable, rows: pd.DataFrame) -> np.ndarray:
    values = rows[table.target]
    return values.astype(float).to_numpy() if table.task == "regression" else values.astype(str)


def _score(table: BenchmarkTable, model: Any, features: Any, rows: pd.DataFrame) -> float:
    truth = _target(table, rows)
    if table.task == "regression":
        return headline(table.task, truth, model.predict(features), None)
    return headline(table.task, np.asarray(truth), model.predict_proba(features), model.classes_)


def benchmark_table(
    table: BenchmarkTable,
    seeds: list[int],
    extra_params: str | None,
    split_seed: int | None = None,
    tune_minutes: float | None = None,
) -> dict[str, Any]:
    """Every system's headline metric on ``table`` for each seed, and the model's times."""
    parquet = materialise(table, DEFAULT_ROOT)
    project = scratch_project(table, parquet)
    metric = HEADLINE[table.task]
    runs = []
    for seed in seeds:
        run = run_project(project, run_params(seed, split_seed, extra_params), f"seed{seed}")
        splits = split_rows(project, table)
        scores = {
            "keras_model": run["metrics"]["model"].get(metric),
            "project_baseline": run["metrics"]["baseline"].get(metric),
            "hist_gradient_boosting": hist_gradient_boosting(table, splits, parquet.parent, seed),
            "tfidf_linear": tfidf_linear(table, splits, seed),
        }
        times = {key: value for key, value in run.items() if key != "metrics"}
        if tune_minutes:
            # One search per split: per seed, or once when every seed shares split_seed's.
            if split_seed is None or seed == seeds[0]:
                times["tuning_seconds"] = tune_project(
                    project, seed, split_seed, tune_minutes, extra_params
                )
            tuned = run_project(
                project,
                run_params(seed, split_seed, extra_params, "training.use_tuned=true"),
                f"seed{seed}-tuned",
            )
            scores[TUNED] = tuned["metrics"]["model"].get(metric)
            times["tuned_train_seconds"] = tuned["train_seconds"]
        runs.append({"seed": seed, "scores": scores, **times})
        print(
            f"  {table.name} seed {seed}: "
            + ", ".join(f"{k} {v:.4f}" for k, v in scores.items() if v is not None)
            + f"; train {run['train_seconds'] or 0:.0f} s, {run['epochs']} epochs,"
            f" run {run['wall_seconds']:.0f} s",
            flush=True,
        )
    return {"table": table.name, "task": table.task, "metric": metric, "runs": runs}


def summarise(result: Mapping[str, Any]) -> dict[str, Any]:
    """Mean and sd per system, the best reference, and whether the model matches it."""
    summary: dict[str, Any] = {}
    for system in (*SYSTEMS, TUNED):
        values = [run["scores"].get(system) for run in result["runs"]]
        values = [value for value in values if value is not None]
        if values:
            spread = statistics.stdev(values) if len(values) > 1 else 0.0
            summary[system] = {"mean": statistics.fmean(values), "sd": spread}
    lower = result["metric"] in LOWER_IS_BETTER
    references = {k: v["mean"] for k, v in summary.items() if k not in ("keras_model", TUNED)}
    best_name = (min if lower else max)(references, key=references.get)
    best, model = references[best_name], summary["keras_model"]["mean"]
    gap = (model - best) / abs(best) if lower else (best - model) / abs(best)
    tuned_gain = None
    if TUNED in summary:
        tuned, default = summary[TUNED]["mean"], model
        tuned_gain = (default - tuned if lower else tuned - default) / abs(default)
    return {
        "systems": summary,
        "tuned_gain": tuned_gain,
        "best_reference": best_name,
        "relative_shortfall": gap,
        "verdict": "wins" if gap <= 0 else ("within 0.5 %" if gap < SHORTFALL else "behind"),
        "median_train_seconds": statistics.median(
            run["train_seconds"] or 0.0 for run in result["runs"]
        ),
        "median_run_seconds": statistics.median(run["wall_seconds"] for run in result["runs"]),
    }


def markdown(results: list[dict[str, Any]], header: str) -> str:
    """The results as a Markdown table, one row per table."""
    tuned = any(result["summary"].get("tuned_gain") is not None for result in results)
    systems = (*SYSTEMS, TUNED) if tuned else SYSTEMS
    lines = [
        header,
        "",
        "| table | task (metric) | Keras model | project baseline | HistGradientBoosting "
        "| TF-IDF + linear |"
        + (" Keras tuned | tuned vs defaults |" if tuned else "")
        + " verdict | train s (median) |",
        "| --- | --- |" + " ---: |" * len(systems) + (" ---: |" if tuned else "") + " --- | ---: |",
    ]
    for result in results:
        summary = result["summary"]
        cells = []
        for system in systems:
            value = summary["systems"].get(system)
            cells.append("—" if value is None else f"{value['mean']:.4f} ± {value['sd']:.4f}")
        if tuned:
            gain = summary.get("tuned_gain")
            cells.append("—" if gain is None else f"{gain:+.2%}")
        shortfall = summary["relative_shortfall"]
        verdict = f"{summary['verdict']} ({-shortfall:+.2%} vs {summary['best_reference']})"
        lines.append(
            f"| {result['table']} | {result['task']} ({result['metric']}) | "
            + " | ".join(cells)
            + f" | {verdict} | {summary['median_train_seconds']:.0f} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tables", nargs="*", default=list(TABLES), choices=list(TABLES))
    parser.add_argument("--seeds", nargs="*", type=int, default=[0, 1, 2])
    parser.add_argument("--params", default=None, help="extra kedro --params for every run")
    parser.add_argument("--label", default=None, help="a name for this run's result files")
    parser.add_argument(
        "--split-seed", type=int, default=None, help="keep this seed's split for every seed"
    )
    parser.add_argument(
        "--tune-minutes", type=float, default=None, help="search each table this long, retrain"
    )
    args = parser.parse_args(argv)
    started = datetime.now(UTC)
    load = os.getloadavg()[0]
    stamp = started.strftime("%Y-%m-%dT%H%MZ")
    label = f"quality-{stamp}" + (f"-{args.label}" if args.label else "")
    document = {
        "started": started.isoformat(),
        "params": args.params,
        "seeds": args.seeds,
        "split_seed": args.split_seed,
        "tune_minutes": args.tune_minutes,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    results = []
    for name in args.tables:
        print(f"{name}:", flush=True)
        result = benchmark_table(
            TABLES[name], args.seeds, args.params, args.split_seed, args.tune_minutes
        )
        result["summary"] = summarise(result)
        results.append(result)
        # Written after every table, so that an interrupted run keeps what it measured.
        header = (
            f"Measured {started:%Y-%m-%d %H:%M} UTC, seeds {args.seeds}"
            + (f" (split of seed {args.split_seed})" if args.split_seed is not None else "")
            + (f", {args.tune_minutes:g} minutes of tuning a search" if args.tune_minutes else "")
            + ", extra params "
            f"{args.params or 'none'}; {os.cpu_count()} cores, {platform.platform()}, Python "
            f"{platform.python_version()}; load average {load:.1f} at the start and "
            f"{os.getloadavg()[0]:.1f} after the last table."
        )
        report = markdown(results, header)
        (RESULTS / f"{label}.md").write_text(report)
        (RESULTS / f"{label}.json").write_text(
            json.dumps({**document, "results": results}, indent=2)
        )
    print(report)
    print(f"Wrote {RESULTS / label}.md and .json")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
