"""Benchmark the project against the seed's approach, on synthetic tables of a given size.

    python benchmarks/run.py                      # the sizes the targets are set at
    python benchmarks/run.py --rows 2000 --memory-images 5000 --scale-rows 100000
    python benchmarks/run.py --skip stages images memory pipeline \
        --scale-rows 1000000 3000000 10000000          # the scale group alone, three sizes

One run generates the tables, copies the project (its ``src`` and ``conf/base``, pointed
at each table) into a temporary folder, and measures, each group in a fresh process:

1. stages: every node of the default pipeline with the catalog saves of its outputs,
   beside the seed's calls for the same stage, in wall seconds, rows or images per
   second and peak resident memory above the process's before the stage; and the
   training step time on the tf.data pipeline against the same batches in memory,
   one model taking its steps alternately from each;
2. images: the image transform node against bare parallel tf.data decode-and-resize
   loops over the same bytes (the practical limit: the faster of the project's
   ``decode_and_resize`` and the seed's two ops in a parallel map) and the seed's eager
   loop, interleaved, ``--repeats`` times;
3. memory: the image node alone over ``--memory-images`` images;
4. pipeline: ``kedro run --to-nodes evaluate_model`` (from the raw table to the test
   metrics) against ``plain_script.py`` doing the same work with the same model and
   epochs, alternated ``--pipeline-repeats`` times; then the whole default pipeline
   once, which also fits the baseline, measures modality importance, exports the
   serving model and writes the report, none of which the plain script does;
5. scale: ``kedro run`` over each of ``--scale-rows`` sizes of a table of 5 categorical,
   5 numerical and 1 text column, one epoch, each size in a project of its own with the
   project's default ``processing`` settings: wall seconds, peak resident memory, seconds
   per million rows and each size's time per row against the smallest size's. The table is
   written to Parquet one row group at a time (``--scale-group-rows``), so this process
   never holds it whole.

It prints a Markdown table of every stage and every target, and writes all figures as
JSON (``--output``) and the table as Markdown beside it.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

from measure import run_child  # noqa: E402
from synthetic import (  # noqa: E402
    TARGET,
    column_names,
    make_benchmark_table,
    write_benchmark_table,
)

ROWS_PER_MILLION = 1_000_000
# The scale group's table: 5 categorical, 5 numerical and 1 text column.
SCALE_COLUMNS = {"categorical": 5, "numerical": 5, "text": 1, "image": 0}
# Its targets: peak memory at every size, and how time per row grows with the size.
SCALE_PEAK_MIB = 3 * 1024
SCALE_TIME_PER_ROW_RATIO = 1.2
# The sizes these targets are set at: the smallest and the largest of them.
SCALE_TARGET_SIZES = (1_000_000, 10_000_000)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    size = parser.add_argument_group("table sizes")
    size.add_argument("--rows", type=int, default=20_000, help="rows of the main table")
    size.add_argument("--categorical", type=int, default=2, help="categorical columns")
    size.add_argument("--numerical", type=int, default=2, help="numerical columns")
    size.add_argument("--text", type=int, default=1, help="text columns")
    size.add_argument("--image-columns", type=int, default=1, help="image columns (one PNG a row)")
    size.add_argument("--image-size", type=int, default=64, help="side of the PNGs, in pixels")
    # The project and the plain script must do the same work: where the project would pick
    # a value per table (auto), both use these.
    size.add_argument("--sequence-length", type=int, default=32, help="text ids per column")
    size.add_argument("--batch-size", type=int, default=64, help="training rows per step")
    size.add_argument(
        "--target-size", type=int, default=None, help="side images are resized to (default: same)"
    )
    size.add_argument(
        "--memory-images", type=int, default=50_000, help="images for the memory group"
    )
    size.add_argument(
        "--scale-rows",
        type=int,
        nargs="+",
        default=[1_000_000],
        help="rows of the scale runs, one run per size (e.g. 1000000 3000000 10000000)",
    )
    size.add_argument(
        "--scale-group-rows",
        type=int,
        default=100_000,
        help="rows per Parquet row group of the scale tables, each written before the next",
    )
    run = parser.add_argument_group("runs")
    run.add_argument("--epochs", type=int, default=1, help="epochs of the end-to-end runs")
    run.add_argument("--repeats", type=int, default=5, help="interleaved rounds, images group")
    run.add_argument(
        "--step-repeats", type=int, default=3, help="alternated epochs of the step-time comparison"
    )
    run.add_argument(
        "--pipeline-repeats", type=int, default=2, help="alternated kedro and plain-script runs"
    )
    run.add_argument("--seed", type=int, default=0, help="seed of the synthetic tables")
    run.add_argument(
        "--skip",
        nargs="*",
        default=[],
        choices=["stages", "steps", "images", "memory", "pipeline", "scale"],
        help="groups to leave out (steps: the training step-time comparison)",
    )
    run.add_argument("--workdir", type=Path, default=None, help="keep tables and copies here")
    run.add_argument(
        "--output",
        type=Path,
        default=HERE / "results" / "latest.json",
        help="JSON results; the Markdown table is written beside it",
    )
    return parser.parse_args(argv)


# Set from the command line before any project is made (--sequence-length, --batch-size).
PINNED: dict[str, int] = {}


def read_conf(name: str) -> dict[str, Any]:
    return yaml.safe_load((REPO / "conf" / "base" / f"{name}.yml").read_text())


def make_project(
    destination: Path, table: Path, columns: dict[str, list[str]], target_size: int
) -> Path:
    """A copy of the project whose base configuration reads ``table`` with ``columns``."""
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info")
    shutil.copytree(REPO / "src", destination / "src", ignore=ignore)
    shutil.copytree(REPO / "conf" / "base", destination / "conf" / "base")
    (destination / "conf" / "local").mkdir(parents=True)
    # The project's own logging: one line per record, as a user's run prints it.
    shutil.copy2(REPO / "conf" / "logging.yml", destination / "conf" / "logging.yml")
    shutil.copy2(REPO / "pyproject.toml", destination / "pyproject.toml")
    base = destination / "conf" / "base"
    features = read_conf("parameters_features")
    for modality, names in columns.items():
        features[modality]["columns"] = names
    features["image"].update(source="bytes", height=target_size, width=target_size, channels=3)
    features["text"]["sequence_length"] = PINNED["sequence_length"]
    # The model the plain script builds: one-hot categories, scaled numbers, averaged word
    # embeddings over Keras' default tokens, one convolution per block, Adam; the figures
    # time the pipeline around it.
    features["categorical"]["encoding"] = "one_hot"
    features["text"].update(
        ngrams=None, min_document_frequency=1, standardize="lower_and_strip_punctuation"
    )
    (base / "parameters_features.yml").write_text(yaml.safe_dump(features, sort_keys=False))
    training = read_conf("parameters_training")
    towers = training["model"]["towers"]
    towers["numerical"]["encoding"] = "none"
    towers["text"].update(tfidf=False, encoder="average")
    towers["image"].update(convs_per_block=1, pool_until=1, pooled_dropout=0.0)
    towers["image"]["augmentation"] = {"translation": 0.0}
    training["model"]["wide"] = {"enabled": False}
    training["training"].update(
        optimizer="adam", monitor="val_loss", learning_rate_schedule={"kind": "constant"}
    )
    training["training"]["batch_size"] = PINNED["batch_size"]
    (base / "parameters_training.yml").write_text(yaml.safe_dump(training, sort_keys=False))
    processing = read_conf("parameters_data_processing")
    processing["table"]["target"] = TARGET
    (base / "parameters_data_processing.yml").write_text(
        yaml.safe_dump(processing, sort_keys=False)
    )
    catalog = read_conf("catalog")
    catalog["raw_table"]["filepath"] = str(table)
    (base / "catalog.yml").write_text(yaml.safe_dump(catalog, sort_keys=False))
    return destination


# The line the project logs when a node finishes (hooks/node_records.py).
NODE_LINE = re.compile(
    r"^\S+ INFO +(?P<node>[\w.]+): (?P<seconds>[0-9.]+) s, peak memory (?P<peak>[0-9.]+) MiB",
    re.MULTILINE,
)


def node_records(log: Path) -> dict[str, dict[str, float]]:
    """Each node's wall seconds and peak memory, as a run's log states them."""
    return {
        match["node"]: {"seconds": float(match["seconds"]), "peak_mib": float(match["peak"])}
        for match in NODE_LINE.finditer(log.read_text())
    }


def child_env() -> dict[str, str]:
    return {**os.environ, "KEDRO_DISABLE_TELEMETRY": "1", "TF_CPP_MIN_LOG_LEVEL": "3"}


def run_group(group: str, project: Path, options: dict[str, Any], logs: Path) -> dict[str, Any]:
    """One measurement group of ``stages.py`` in a fresh process; its JSON result."""
    command = [sys.executable, str(HERE / "stages.py"), group, str(project), json.dumps(options)]
    print(f"[benchmark] {group} ...", flush=True)
    child = run_child(command, project, child_env(), logs / f"{group}.log")
    marker = "BENCHMARK-RESULT "
    lines = [line for line in child.stdout.splitlines() if line.startswith(marker)]
    if child.returncode or not lines:
        raise SystemExit(f"the {group} group failed; see {logs / (group + '.log')}")
    result = json.loads(lines[-1][len(marker) :])
    result["process_seconds"], result["process_peak_mib"] = child.seconds, child.peak_mib
    return result


# The last node of the work the plain script does: everything upstream of it runs.
PLAIN_SCRIPT_WORK = "evaluate_model"


def kedro_run(project: Path, epochs: int, log: Path, to_node: str | None = None) -> dict[str, Any]:
    command = [sys.executable, "-m", "kedro", "run", "--params", f"training.epochs={epochs}"]
    command += ["--to-nodes", to_node] if to_node else []
    child = run_child(command, project, child_env(), log)
    if child.returncode:
        raise SystemExit(f"kedro run failed in {project}; see {log}")
    return {"seconds": child.seconds, "peak_mib": child.peak_mib}


# How often the scale group reads the kedro run's memory while it runs.
SAMPLE_SECONDS = 0.05
STATUS_FIELD = re.compile(r"^(VmHWM|VmRSS):\s+(\d+) kB", re.MULTILINE)


def sampled_kedro_run(project: Path, epochs: int, log: Path) -> dict[str, Any]:
    """``kedro run``'s wall seconds and peak resident memory, the memory read as it runs.

    The project resets the kernel's high-water mark at every node (``hooks/memory.py``), so
    the child's ``ru_maxrss`` at exit covers only the time since the last node started. The
    peak is therefore the largest of ``VmHWM`` read from ``/proc`` every ``SAMPLE_SECONDS``
    (which covers the loads and saves between nodes too), ``ru_maxrss`` and the peaks the
    nodes log.
    """
    command = [sys.executable, "-m", "kedro", "run", "--params", f"training.epochs={epochs}"]
    peak_kib = 0
    started = time.perf_counter()
    with log.open("w") as stream:
        child = subprocess.Popen(
            command, cwd=project, env=child_env(), stdout=stream, stderr=subprocess.STDOUT
        )
        proc = Path("/proc") / str(child.pid) / "status"
        while True:
            pid, status, usage = os.wait4(child.pid, os.WNOHANG)
            if pid:
                break
            with contextlib.suppress(OSError):
                fields = STATUS_FIELD.findall(proc.read_text())
                peak_kib = max([peak_kib, *(int(kib) for _, kib in fields)])
            time.sleep(SAMPLE_SECONDS)
    seconds = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode:
        raise SystemExit(f"kedro run failed in {project}; see {log}")
    nodes = node_records(log)
    # ru_maxrss is in KiB on Linux.
    peaks = [peak_kib / 1024, usage.ru_maxrss / 1024, *(n["peak_mib"] for n in nodes.values())]
    return {"seconds": seconds, "peak_mib": max(peaks), "nodes": nodes}


def plain_run(settings: dict[str, Any], project: Path, log: Path) -> dict[str, Any]:
    command = [sys.executable, str(HERE / "plain_script.py"), json.dumps(settings)]
    child = run_child(command, project, child_env(), log)
    if child.returncode:
        raise SystemExit(f"the plain script failed; see {log}")
    metrics = json.loads(child.stdout.strip().splitlines()[-1])
    return {"seconds": child.seconds, "peak_mib": child.peak_mib, "metrics": metrics}


def plain_settings(
    table: Path, columns: dict[str, list[str]], target_size: int, epochs: int, output: Path
) -> dict[str, Any]:
    """The plain script's settings: the project's own base configuration, for the same work."""
    features, training = read_conf("parameters_features"), read_conf("parameters_training")
    processing, seed = read_conf("parameters_data_processing"), read_conf("parameters")["seed"]
    return {
        "table": str(table),
        "output": str(output),
        "target": TARGET,
        **columns,
        "seed": seed,
        "test_fraction": processing["split"]["test_fraction"],
        "validation_fraction": processing["split"]["validation_fraction"],
        "min_frequency": features["categorical"]["min_frequency"],
        "max_tokens": features["text"]["max_tokens"],
        "sequence_length": PINNED["sequence_length"],
        "image_size": [target_size, target_size],
        "towers": training["model"]["towers"],
        "fusion": training["model"]["fusion"],
        "training": {**training["training"], "epochs": epochs, "batch_size": PINNED["batch_size"]},
    }


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    import numpy
    import pandas
    import sklearn

    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    memory_kib = int(Path("/proc/meminfo").read_text().split()[1])
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(memory_kib / 2**20, 1),
        "os": platform.platform(),
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "pandas": pandas.__version__,
        "scikit-learn": sklearn.__version__,
        "load_average_at_start": os.getloadavg()[0],
    }


def median(values: list[float]) -> float:
    return statistics.median(values)


def targets(results: dict[str, Any], args: argparse.Namespace) -> list[dict[str, Any]]:
    """Every target of the benchmark, its measured value and whether it is met."""
    rows = []

    def add(name: str, value: float, limit: float, at_least: bool, size: str, sized: bool):
        met = value >= limit if at_least else value <= limit
        rows.append(
            {
                "target": name,
                "value": value,
                "limit": limit,
                "comparison": ">=" if at_least else "<=",
                "met": met,
                "measured_at": size,
                "at_target_size": sized,
            }
        )

    if "images" in results:
        runs = results["images"]["runs"]
        project = median([run["seconds"] for run in runs["project"]])
        count = results["images"]["images"]
        sized = count >= 20_000 and args.image_size == 64
        size = f"{count} {args.image_size}x{args.image_size} PNGs"
        add(
            "image node throughput / seed's",
            median([run["seconds"] for run in runs["seed"]]) / project,
            5.0,
            True,
            size,
            sized,
        )
        # The practical limit: the faster of the two bare loops over the same bytes.
        bare = min(
            median([run["seconds"] for run in runs[name]])
            for name in ("bare_tf_data", "bare_tf_data_seed_ops")
        )
        add("image node throughput / bare tf.data loop's", bare / project, 0.7, True, size, sized)
    if "memory" in results:
        memory = results["memory"]
        add(
            "image node peak above the process's memory (MiB)",
            memory["peak_above_mib"],
            300.0,
            False,
            f"{memory['images']} {args.image_size}x{args.image_size} PNGs",
            memory["images"] >= 50_000 and args.image_size == 64,
        )
    if "scale" in results:
        scale = results["scale"]
        runs, table = scale["runs"], f"{scale['columns']}, {scale['epochs']} epoch"
        smallest, largest = runs[0], runs[-1]
        low, high = SCALE_TARGET_SIZES
        add(
            "kedro run at scale: wall seconds",
            smallest["seconds"],
            600.0,
            False,
            f"{smallest['rows']:,} rows, {table}",
            smallest["rows"] >= low,
        )
        for run in runs:
            add(
                "kedro run at scale: peak resident memory (MiB)",
                run["peak_mib"],
                SCALE_PEAK_MIB,
                False,
                f"{run['rows']:,} rows, {table}",
                run["rows"] >= low,
            )
        if len(runs) > 1:
            add(
                "kedro run at scale: time per row, largest size / smallest size",
                largest["time_per_row_ratio"],
                SCALE_TIME_PER_ROW_RATIO,
                False,
                f"{largest['rows']:,} against {smallest['rows']:,} rows, {table}",
                smallest["rows"] >= low and largest["rows"] >= high,
            )
    if "pipeline" in results:
        runs = results["pipeline"]
        add(
            f"kedro run --to-nodes {PLAIN_SCRIPT_WORK} / plain script, wall time",
            median([run["seconds"] for run in runs["kedro"]])
            / median([run["seconds"] for run in runs["plain"]]),
            1.2,
            False,
            f"{args.rows} rows, {args.epochs} epoch(s)",
            True,
        )
    steps = results.get("stages", {}).get("step_seconds", {})
    if steps.get("pipeline"):
        add(
            "training step time, tf.data over memory maps / same batches in memory",
            median(steps["pipeline"]) / median(steps["in_memory"]),
            1.1,
            False,
            f"{results['stages']['train_rows']} training rows, batch "
            f"{results['stages']['batch_size']}",
            True,
        )
    return rows


def _number(value: float | None, digits: int = 2) -> str:
    if value is None:
        return "—"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.{digits}f}"


def stage_table(results: dict[str, Any]) -> list[str]:
    """Stages side by side: the project's nodes and the seed's calls."""
    lines = [
        "| stage | project s | project /s | project peak MiB | seed s | seed /s | seed peak MiB |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    by_stage: dict[str, dict[str, dict[str, Any]]] = {}
    for row in results.get("stages", {}).get("rows", []):
        by_stage.setdefault(row["stage"], {})[row["approach"]] = row
    in_seed_fit = {"categorical transform", "numerical transform", "text transform"}
    if "images" in results:
        runs, count = results["images"]["runs"], results["images"]["images"]
        for approach in ("project", "seed"):
            seconds = median([run["seconds"] for run in runs[approach]])
            peak = max(run["peak_above_mib"] for run in runs[approach])
            by_stage.setdefault("image transform", {})[approach] = {
                "seconds": seconds,
                "per_second": count / seconds,
                "peak_above_mib": peak,
                "unit": "images",
            }
    for stage, approaches in by_stage.items():
        project, seed = approaches.get("project"), approaches.get("seed")
        cells = [stage]
        for row in (project, seed):
            if row is None:
                cells += ["—", "—", "—"]
            else:
                unit = " img" if row.get("unit") == "images" else ""
                cells += [
                    _number(row["seconds"]),
                    _number(row["per_second"]) + unit,
                    _number(row["peak_above_mib"], 0),
                ]
        if stage in in_seed_fit and seed is None:
            cells[4:] = ["(in fit)", "", ""]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def flat(settings: dict[str, Any], prefix: str = "") -> dict[str, str]:
    """Nested settings as ``a.b`` keys and YAML-like values (null, not None)."""
    flattened: dict[str, str] = {}
    for key, value in settings.items():
        if isinstance(value, dict):
            flattened.update(flat(value, f"{prefix}{key}."))
        else:
            flattened[f"{prefix}{key}"] = "null" if value is None else str(value)
    return flattened


def scale_table(scale: dict[str, Any]) -> list[str]:
    """The scale group: one row per size, and the settings every size ran with."""
    lines = [
        f"## Scale: kedro run over {scale['columns']}, {scale['epochs']} epoch",
        "",
        "| rows | wall s | s per million rows | time per row / smallest size's | peak MiB "
        "| highest node peak MiB |",
        "| ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for run in scale["runs"]:
        nodes = run["nodes"]
        highest = max(nodes, key=lambda name: nodes[name]["peak_mib"], default=None)
        node = f"{nodes[highest]['peak_mib']:,.0f} ({highest})" if highest else "—"
        lines.append(
            f"| {run['rows']:,} | {run['seconds']:.1f} | {run['seconds_per_million_rows']:.1f} | "
            f"{run['time_per_row_ratio']:.2f} | {run['peak_mib']:,.0f} | {node} |"
        )
    settings = ", ".join(f"{key} {value}" for key, value in flat(scale["processing"]).items())
    lines += [
        "",
        f"Each size ran in a project of its own with the default processing settings "
        f"({settings}); its table was written in row groups of {scale['group_rows']:,} rows.",
    ]
    return lines


def report(results: dict[str, Any]) -> str:
    lines = ["## Stages", "", *stage_table(results)] if "stages" in results else []
    if "images" in results:
        runs = results["images"]["runs"]
        count = results["images"]["images"]
        lines += ["", "## Image decoding, images per second (median of runs)", ""]
        lines += ["| approach | seconds | images/s | peak MiB |", "| --- | ---: | ---: | ---: |"]
        for name, label in (
            ("project", "project node (checks, decode, resize, write .npy)"),
            ("bare_tf_data", "bare parallel tf.data map of decode_and_resize"),
            ("bare_tf_data_seed_ops", "bare parallel tf.data map of the seed's two ops, uint8"),
            ("bare_decode_only", "for reference: bare parallel map of decode only, no resize"),
            ("seed", "seed: eager decode_png + resize list, tf.stack"),
        ):
            seconds = median([run["seconds"] for run in runs[name]])
            peak = max(run["peak_above_mib"] for run in runs[name])
            lines.append(f"| {label} | {seconds:.2f} | {count / seconds:,.0f} | {peak:,.0f} |")
    steps = results.get("stages", {}).get("step_seconds", {})
    if steps.get("pipeline"):
        lines += ["", "## Training step time (steps taken alternately from each input)", ""]
        lines += [
            "| input | steps | median ms | 10th–90th percentile ms |",
            "| --- | ---: | ---: | --- |",
        ]
        for name, label in (
            ("pipeline", "tf.data over memory-mapped arrays"),
            ("in_memory", "same batches, in memory"),
        ):
            values = sorted(steps[name])
            low, high = values[len(values) // 10], values[(9 * len(values)) // 10]
            lines.append(
                f"| {label} | {len(values)} | {1000 * median(values):.1f} | "
                f"{1000 * low:.1f}–{1000 * high:.1f} |"
            )
    if "pipeline" in results:
        lines += ["", "## End to end", ""]
        lines += ["| run | wall s, each run | median s | peak MiB |", "| --- | --- | ---: | ---: |"]
        for name, label in (
            ("kedro", f"kedro run --to-nodes {PLAIN_SCRIPT_WORK}"),
            ("plain", "plain script (the same work)"),
            (
                "kedro_default",
                "kedro run, whole default pipeline (adds the baseline, "
                "modality importance, serving model and report)",
            ),
        ):
            runs = results.get("pipeline", {}).get(name)
            if runs:
                each = ", ".join(f"{run['seconds']:.1f}" for run in runs)
                middle = median([run["seconds"] for run in runs])
                peak = max(run["peak_mib"] for run in runs)
                lines.append(f"| {label} | {each} | {middle:.1f} | {peak:,.0f} |")
    if "scale" in results:
        lines += ["", *scale_table(results["scale"])]
    lines += ["", "## Targets", ""]
    lines += [
        "| target | measured | limit | met | measured at |",
        "| --- | ---: | ---: | --- | --- |",
    ]
    for row in results["targets"]:
        met = "yes" if row["met"] else "**no**"
        if not row["at_target_size"]:
            met += " (below target size)"
        lines.append(
            f"| {row['target']} | {_number(row['value'])} | {row['comparison']} "
            f"{_number(row['limit'])} | {met} | {row['measured_at']} |"
        )
    info = results["machine"]
    lines += [
        "",
        f"Measured {results['finished']} on {info['cores']} cores ({info['cpu']}), "
        f"{info['memory_gib']} GiB, {info['os']}, Python {info['python']}; load average "
        f"{info['load_average_at_start']:.1f} at the start and "
        f"{results['load_average_at_end']:.1f} at the end.",
    ]
    return "\n".join(lines)


class Benchmark:
    """One benchmark run: its arguments, working folder, tables and results."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.target_size = args.target_size or args.image_size
        workdir = args.workdir or Path(tempfile.mkdtemp(prefix="multimodal-keras-benchmark-"))
        self.workdir = workdir.resolve()
        self.logs = self.workdir / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        self.spec = read_conf("parameters_demo")["demo"]
        self.generated: dict[str, float] = {}
        self.results: dict[str, Any] = {
            "machine": machine(),
            "arguments": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
            "workdir": str(self.workdir),
        }

    def table(self, name: str, columns: dict[str, list[str]], rows: int) -> Path:
        path = self.workdir / f"{name}.parquet"
        begun = time.perf_counter()
        table = make_benchmark_table(columns, rows, self.spec, self.args.seed, self.args.image_size)
        table.to_parquet(path)
        self.generated[name] = time.perf_counter() - begun
        print(f"[benchmark] {name} table: {rows} rows in {self.generated[name]:.1f} s", flush=True)
        return path

    def project(self, name: str, table: Path, columns: dict[str, list[str]]) -> Path:
        return make_project(self.workdir / name, table, columns, self.target_size)

    def in_process_groups(self, table: Path, columns: dict[str, list[str]]) -> None:
        args, skip = self.args, self.args.skip
        project = self.project("project", table, columns)
        if "stages" not in skip or "images" not in skip:
            # The images group reads the primary table and preprocessor that stages writes.
            options = {"step_repeats": 0 if "steps" in skip else args.step_repeats}
            self.results["stages"] = run_group("stages", project, options, self.logs)
        if "images" not in skip and args.image_columns:
            options = {"repeats": args.repeats}
            self.results["images"] = run_group("images", project, options, self.logs)
        if "memory" not in skip:
            image_only = column_names(0, 0, 0, 1)
            memory_table = self.table("memory", image_only, args.memory_images)
            memory_project = self.project("memory", memory_table, image_only)
            options = {"table": str(memory_table)}
            self.results["memory"] = run_group("memory", memory_project, options, self.logs)

    def end_to_end(self, table: Path, columns: dict[str, list[str]]) -> None:
        args = self.args
        if "pipeline" not in args.skip:
            project = self.project("pipeline", table, columns)
            output = self.workdir / "plain_output"
            settings = plain_settings(table, columns, self.target_size, args.epochs, output)
            runs: dict[str, list[dict[str, Any]]] = {"kedro": [], "plain": []}
            for repeat in range(args.pipeline_repeats):
                print(f"[benchmark] pipeline, round {repeat + 1} ...", flush=True)
                log = self.logs / f"kedro_{repeat}.log"
                runs["kedro"].append(kedro_run(project, args.epochs, log, PLAIN_SCRIPT_WORK))
                log = self.logs / f"plain_{repeat}.log"
                runs["plain"].append(plain_run(settings, self.workdir, log))
            print("[benchmark] pipeline, whole default pipeline ...", flush=True)
            log = self.logs / "kedro_default.log"
            runs["kedro_default"] = [kedro_run(project, args.epochs, log)]
            self.results["pipeline"] = runs
        if "scale" not in args.skip:
            self.scale()

    def scale(self) -> None:
        """``kedro run`` over each size of the scale table, smallest first, one epoch each."""
        args, epochs = self.args, 1
        columns = column_names(*SCALE_COLUMNS.values())
        runs = []
        for rows in sorted(set(args.scale_rows)):
            name = f"scale_{rows}"
            table = self.workdir / f"{name}.parquet"
            begun = time.perf_counter()
            groups = write_benchmark_table(
                table, columns, rows, self.spec, args.seed, args.image_size, args.scale_group_rows
            )
            self.generated[name] = time.perf_counter() - begun
            seconds = self.generated[name]
            print(f"[benchmark] {name} table: {rows} rows in {seconds:.1f} s", flush=True)
            project = self.project(name, table, columns)
            print(f"[benchmark] scale, {rows:,} rows ...", flush=True)
            log = self.logs / f"{name}.log"
            run = sampled_kedro_run(project, epochs, log)
            runs.append({"rows": rows, "row_groups": groups, **run})
            if args.workdir is None:
                # Each size's table and features can take gigabytes: only the logs are kept.
                table.unlink()
                shutil.rmtree(project, ignore_errors=True)
        smallest = runs[0]["seconds"] / runs[0]["rows"]
        for run in runs:
            run["seconds_per_million_rows"] = run["seconds"] / run["rows"] * ROWS_PER_MILLION
            run["time_per_row_ratio"] = run["seconds"] / run["rows"] / smallest
        described = {modality: count for modality, count in SCALE_COLUMNS.items() if count}
        self.results["scale"] = {
            "columns": ", ".join(f"{count} {modality}" for modality, count in described.items()),
            "epochs": epochs,
            "group_rows": args.scale_group_rows,
            "processing": read_conf("parameters_data_processing")["processing"],
            "runs": runs,
        }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    PINNED.update(sequence_length=args.sequence_length, batch_size=args.batch_size)
    started = time.perf_counter()
    benchmark = Benchmark(args)
    columns = column_names(args.categorical, args.numerical, args.text, args.image_columns)
    main_table = benchmark.table("main", columns, args.rows)
    benchmark.in_process_groups(main_table, columns)
    benchmark.end_to_end(main_table, columns)
    results = benchmark.results
    results["generation_seconds"] = benchmark.generated
    results["targets"] = targets(results, args)
    results["load_average_at_end"] = os.getloadavg()[0]
    results["finished"] = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    results["total_seconds"] = time.perf_counter() - started
    text = report(results)
    print(text)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2))
    args.output.with_suffix(".md").write_text(text + "\n")
    print(f"\n[benchmark] wrote {args.output} and {args.output.with_suffix('.md')}")
    if args.workdir is None:
        shutil.rmtree(benchmark.workdir, ignore_errors=True)
    return results


if __name__ == "__main__":
    main()
