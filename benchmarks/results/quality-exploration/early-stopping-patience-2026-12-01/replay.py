"""Replay early stopping with another patience over the epoch lines of benchmark run logs.

Training up to a given epoch does not depend on the patience, so each run's epochs are
those of its log until the shorter patience stops it. The kept weights, and so the test
metrics, are the same whenever the best epoch is; the seconds are the logged epochs'.

    python replay.py LOG_DIR --patience 6
"""

import argparse
import re
from pathlib import Path

EPOCH = re.compile(r"epoch (\d+)/\d+: (.*) \(([\d.]+) s\)")
# The benchmark's tasks watch these (training.monitor: auto).
MONITORS = (("val_auc", "max"), ("val_rmse", "min"), ("val_accuracy", "max"))


def epochs(log: Path) -> list[dict[str, float]]:
    rows = []
    for line in log.read_text().splitlines():
        match = EPOCH.search(line)
        if match:
            values = dict(kv.rsplit(" ", 1) for kv in match.group(2).split(", "))
            rows.append({k: float(v) for k, v in values.items()} | {"s": float(match.group(3))})
    return rows


def stop(rows: list[dict[str, float]], key: str, mode: str, patience: int) -> tuple[int, int]:
    """The epoch early stopping ends on, and the best epoch it keeps (both from 1)."""
    best, best_epoch, wait = None, 0, 0
    for epoch, row in enumerate(rows, 1):
        value = row[key]
        if best is None or (value > best if mode == "max" else value < best):
            best, best_epoch, wait = value, epoch, 0
        else:
            wait += 1
        if wait >= patience:
            return epoch, best_epoch
    return len(rows), best_epoch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("logs", type=Path)
    parser.add_argument("--patience", type=int, required=True)
    parser.add_argument("--logged-patience", type=int, default=10)
    args = parser.parse_args()
    total = {"before": 0.0, "after": 0.0}
    print("| run | monitor | epochs | best epoch | kept weights | train s |")
    print("| --- | --- | ---: | ---: | --- | ---: |")
    for log in sorted(args.logs.glob("*.log")):
        rows = epochs(log)
        key, mode = next((k, m) for k, m in MONITORS if k in rows[0])
        end0, best0 = stop(rows, key, mode, args.logged_patience)
        end1, best1 = stop(rows, key, mode, args.patience)
        secs0, secs1 = sum(r["s"] for r in rows), sum(r["s"] for r in rows[:end1])
        total["before"] += secs0
        total["after"] += secs1
        kept = "same" if best0 == best1 else f"epoch {best1} (val {rows[best1 - 1][key]:.4f})"
        if end0 != len(rows):
            # The log rounds the monitored metric: a tie there hid an improvement the run saw.
            kept = f"unknown: the log's rounding hides an improvement (it ran {len(rows)})"
        print(
            f"| {log.stem} | {key} | {len(rows)} → {end1} | {best0} → {best1} | {kept} "
            f"| {secs0:.0f} → {secs1:.0f} |"
        )
    print(
        f"\nAll runs: {total['before']:.0f} s → {total['after']:.0f} s of training "
        f"({1 - total['after'] / total['before']:.0%} less)."
    )


if __name__ == "__main__":
    main()
