"""Bad inputs, run as a user meets them: through ``kedro run`` on small project copies.

The command runs in this process (Click's test runner on the project's ``run`` command,
in the copy's folder), so a case costs a fraction of a second instead of a TensorFlow
start-up. What a case asserts is what the terminal shows: one sentence saying what is
wrong, where and what to do, or the documented handling, and never a traceback.
"""

from __future__ import annotations

import io
import logging
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from click.testing import CliRunner
from PIL import Image

from tests.scratch_project import LOG_WIDTH, make_small_project

# Column names a user may well have: each one is awkward for some layer of the stack.
AWKWARD_COLUMNS: dict[str, Any] = {
    "categorical": {"columns": ["colour / shade", "état"]},
    "numerical": {"columns": ["capital-gain", "price 🙂"]},
    "text": {"columns": ["long text"]},
    "image": {"columns": ["photo"]},
}
# Cell values the trained project reads as missing, in every column.
MARKERS = ["?", "-999"]
CSV_ENVIRONMENT = "csv"
CSV_TABLE = Path("data/01_raw/table.csv")


@dataclass
class Outcome:
    """What ``kedro run`` printed and how it ended."""

    exit_code: int
    output: str

    @property
    def stopped_with(self) -> str:
        """The one sentence the run stopped with ("" when it did not stop that way)."""
        marker = "The run stopped: "
        lines = [line for line in self.output.splitlines() if marker in line]
        return lines[-1].split(marker, 1)[1] if lines else ""


def cell(name: str, row: int, value: object) -> Callable[[pd.DataFrame], pd.DataFrame]:
    """A change that sets one cell, the column first made to hold any Python object."""

    def change(table: pd.DataFrame) -> pd.DataFrame:
        table = table.copy()
        table[name] = table[name].astype(object)
        table.at[row, name] = value
        return table

    return change


def png(width: int, height: int) -> bytes:
    """A black 1-bit PNG: a few KiB that decode to width x height pixels."""
    buffer = io.BytesIO()
    Image.new("1", (width, height)).save(buffer, format="PNG")
    return buffer.getvalue()


class RecordedLines(logging.Handler):
    """Every log record of a run, as one line each."""

    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(logging.Formatter("%(levelname)-7s %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


def kedro_run(project: Path, *arguments: str) -> Outcome:
    """``kedro run ARGUMENTS`` in ``project``, in this process; its output and exit code."""
    # Imported here, not at collection: importing Kedro's project module configures
    # logging, which must not happen while pytest collects.
    from kedro.framework.startup import bootstrap_project

    from multimodal_keras.cli import cli

    previous = Path.cwd()
    os.chdir(project)
    # conf/logging.yml's console handler writes to the standard output of the moment
    # logging was configured, not to the runner's: the run's log lines are read from
    # the records themselves, as that handler formats them.
    records = RecordedLines()
    logging.getLogger().addHandler(records)
    try:
        bootstrap_project(project)
        # A wide console keeps each log record on one line, as a wide terminal would.
        runner = CliRunner(env={"COLUMNS": str(LOG_WIDTH)})
        result = runner.invoke(cli, ["run", *arguments], catch_exceptions=True)
    finally:
        logging.getLogger().removeHandler(records)
        os.chdir(previous)
    output = "\n".join([*records.lines, result.output])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        # An exception Click did not turn into a message: what a user would see as a traceback.
        output += f"\nTraceback (most recent call last):\n{result.exception!r}"
    return Outcome(result.exit_code, output)


def assert_stops(outcome: Outcome, *fragments: str) -> None:
    """The run stopped with one sentence holding every fragment, and no traceback."""
    assert "Traceback" not in outcome.output, outcome.output[-4000:]
    assert outcome.exit_code == 1, outcome.output[-4000:]
    sentence = outcome.stopped_with
    assert sentence, outcome.output[-4000:]
    for fragment in fragments:
        assert fragment in sentence, sentence


def assert_handled(outcome: Outcome, *fragments: str) -> None:
    """The run finished, printed every fragment (its warning), and no traceback."""
    assert "Traceback" not in outcome.output, outcome.output[-4000:]
    assert outcome.exit_code == 0, outcome.output[-4000:]
    flat = " ".join(outcome.output.split())
    for fragment in fragments:
        assert " ".join(fragment.split()) in flat, outcome.output[-4000:]


@pytest.fixture(scope="session")
def scratch_project(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """A small project whose raw table each case replaces; it has a CSV environment too."""
    project, parameters = make_small_project(tmp_path_factory.mktemp("bad_inputs_scratch"))
    environment = project / "conf" / CSV_ENVIRONMENT
    environment.mkdir()
    (environment / "catalog.yml").write_text(
        f"raw_table:\n  type: pandas.CSVDataset\n  filepath: {CSV_TABLE.as_posix()}\n"
    )
    return project, parameters


@pytest.fixture
def with_table(
    scratch_project: tuple[Path, dict[str, Any]],
) -> Iterator[Callable[[pd.DataFrame], Path]]:
    """Write a case's raw table into the scratch project; the demo table comes back after."""
    project, _ = scratch_project
    raw = project / "data" / "01_raw" / "demo_table.parquet"
    original = raw.read_bytes()

    def write(table: pd.DataFrame) -> Path:
        table.to_parquet(raw)
        return project

    yield write
    raw.write_bytes(original)


@pytest.fixture(scope="session")
def trained_project(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """A small project with awkward column names and missing-value markers, trained once by
    a default ``kedro run``."""
    project, parameters = make_small_project(
        tmp_path_factory.mktemp("bad_inputs_trained"),
        changes={**AWKWARD_COLUMNS, "table": {"missing_values": MARKERS}},
    )
    outcome = kedro_run(project, "--params", "training.epochs=1")
    assert outcome.exit_code == 0, outcome.output[-4000:]
    return project, parameters
