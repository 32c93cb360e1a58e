"""Bad training tables: one sentence, or the documented handling with a warning.

Each case changes the small demo table as a real table would be wrong, then runs the
default ``kedro run``. A run that stops in validation writes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from multimodal_keras.errors import MultimodalKerasError
from tests.artifacts import versions
from tests.bad_inputs.conftest import (
    CSV_ENVIRONMENT,
    CSV_TABLE,
    assert_handled,
    assert_stops,
    cell,
    kedro_run,
    png,
)

pytestmark = pytest.mark.integration

TARGET = "sold"


@dataclass
class Case:
    """A change to the demo table and what the run must say about it."""

    name: str
    change: Callable[[pd.DataFrame], pd.DataFrame]
    says: list[str]
    stops: bool = True
    arguments: list[str] = field(default_factory=list)
    parameters: str = ""  # an environment's parameters.yml, for settings --params cannot hold

    def __str__(self) -> str:
        return self.name


def column(name: str, values: Callable[[pd.DataFrame], object]) -> Callable:
    """A change that sets one column (a copy of the table)."""

    def change(table: pd.DataFrame) -> pd.DataFrame:
        table = table.copy()
        table[name] = values(table)
        return table

    return change


def half(table: pd.DataFrame, row: int) -> bytes:
    whole = bytes(table.at[row, "photo"])
    return whole[: len(whole) // 2]


UNUSABLE = "set {}.invalid_rows to 'drop' to leave such rows out"

CASES = [
    Case("no rows", lambda t: t.head(0), ["The raw table has no rows"]),
    Case("no target column", lambda t: t.drop(columns=[TARGET]),
         ["lacks the configured column(s) 'sold' (target)", "Fix the column names"]),
    Case("a feature column missing", lambda t: t.drop(columns=["price"]),
         ["lacks the configured column(s) 'price' (numerical)"]),
    Case("target empty everywhere", column(TARGET, lambda t: None),
         ["The target column 'sold' is empty in every row"]),
    Case("target with one value", column(TARGET, lambda t: 1),
         ["The target column 'sold' has one value only (1)"]),
    Case("target missing in some rows", cell(TARGET, 3, None),
         ["Dropped 1 of 240 rows with no"], stops=False),
    Case("regression target infinite", lambda t: cell(TARGET, 4, np.inf)(
        t.assign(sold=np.arange(len(t), dtype=float))), ["holds 1 infinite value(s) (row 4: inf)"],
         arguments=["--params", "table.task=regression"]),
    Case("regression target with words", lambda t: cell(TARGET, 3, "n/a")(t.astype({TARGET: str})),
         ["table.task is regression, but the target column 'sold' holds 1 value(s) that are not "
          "numbers (row 3: 'n/a')"], arguments=["--params", "table.task=regression"]),
    Case("a class with one row", lambda t: cell(TARGET, 0, "rare")(t.astype({TARGET: str})),
         ["class 'rare' has only 1 row, but a stratified split needs at least 3 rows"]),
    Case("three rows", lambda t: t.head(3), ["have too few rows, but a stratified split needs"]),
    Case("missing target as an error", cell(TARGET, 3, None), ["target column 'sold' (row ids [3]"],
         arguments=["--params", "table.missing_target=error"]),
    Case("a word among numbers", lambda t: cell("price", 7, "cheap")(t.astype({"price": str})),
         ["row 7: price='cheap' is not a finite number", UNUSABLE.format("numerical")]),
    Case("a marker among numbers", lambda t: cell("price", 7, " ? ")(t.astype({"price": str})),
         ["Read 1 cell(s) of the raw table holding a missing-value marker as missing: 'price': 1."],
         stops=False, parameters="table:\n  missing_values: ['?']\n"),
    Case("an infinite number", cell("price", 3, np.inf),
         ["row 3: price=inf is not a finite number", UNUSABLE.format("numerical")]),
    Case("numbers missing everywhere", column("price", lambda t: np.nan),
         ["Numerical column 'price' is missing in every training row"], stops=False),
    Case("categories missing everywhere", column("category", lambda t: None),
         ["Categorical column 'category' is missing in every training row"], stops=False),
    Case("categories that are numbers", column("category", lambda t: np.arange(len(t)) % 3),
         [], stops=False),
    Case("text empty everywhere", column("description", lambda t: ""),
         ["Text column(s) ['description'] are empty or missing in all"]),
    Case("text that is numbers", column("description", lambda t: np.arange(len(t))), [],
         stops=False),
    Case("one huge text cell", cell("description", 0, "word " * 200_000), [], stops=False),
    Case("bytes that are no image", cell("photo", 5, b"not an image"),
         ["row 5: photo: not an image in a format Pillow recognises", UNUSABLE.format("image")]),
    Case("a truncated PNG", lambda t: cell("photo", 5, half(t, 5))(t),
         ["row 5: photo: a truncated or corrupt image", UNUSABLE.format("image")]),
    Case("a truncated PNG dropped", lambda t: cell("photo", 5, half(t, 5))(t),
         ["Dropped 1 of 240 rows with unusable image values (first: row 5, photo: a truncated"],
         stops=False,
         arguments=["--params", "image.invalid_rows=drop"]),
    Case("an empty image cell", cell("photo", 5, None), ["row 5: photo: the cell is empty"]),
    Case("a decompression bomb", cell("photo", 5, png(20000, 20000)),
         ["row 5: photo: a decompression bomb"]),
    Case("an image over max_pixels", cell("photo", 5, png(300, 300)),
         ["row 5: photo: 300x300 pixels exceed the limit of 10000"],
         arguments=["--params", "image.max_pixels=10000"]),
    Case("a category `id` in a column `row`", lambda t: cell("row", 0, "id")(
        t.rename(columns={"category": "row"})), [], stops=False,
         parameters="categorical:\n  columns: [row, condition]\n"),
    Case("a column twice in one modality", lambda t: t, ["'price'"],
         parameters="numerical:\n  columns: [price, price]\n"),
    Case("a column in two modalities", lambda t: t, ["'price'"],
         parameters="categorical:\n  columns: [category, condition, price]\n"),
    Case("the target as a feature", lambda t: t, ["'sold'"],
         parameters="numerical:\n  columns: [price, seller_rating, sold]\n"),
    Case("two columns, one serving name", lambda t: t.assign(**{"a b": 1.0, "a-b": 2.0}),
         ["'a b'", "'a-b'"], parameters="numerical:\n  columns: [price, 'a b', 'a-b']\n"),
    Case("an id column with repeats", lambda t: t.assign(code=np.arange(len(t)) % 5),
         ["'code'"], arguments=["--params", "table.id_column=code"]),
    Case("a group column that is not there", lambda t: t, ["'nope' (group column)"],
         arguments=["--params", "split.group_column=nope"]),
    Case("a table that has a row_id column", lambda t: t.assign(row_id=1), [], stops=False),
]  # fmt: skip


def data_files(project: Path) -> dict[str, tuple[int, int]]:
    """Every artifact under the project's data folder, with its size and modification time.

    ``run_timings.json`` is left out: it is the log of the latest run, failed ones included.
    """
    return {
        str(path.relative_to(project)): (path.stat().st_size, path.stat().st_mtime_ns)
        for path in sorted((project / "data").rglob("*"))
        if path.is_file() and "01_raw" not in path.parts and path.name != "run_timings.json"
    }


@pytest.mark.parametrize("case", CASES, ids=str)
def test_a_bad_training_table_gets_one_sentence_or_its_documented_handling(
    scratch_project, with_table, case
):
    project, _ = scratch_project
    with_table(case.change(pd.read_parquet(project / "data" / "01_raw" / "demo_table.parquet")))
    arguments = list(case.arguments)
    if case.parameters:
        environment = project / "conf" / "table_case"
        environment.mkdir(exist_ok=True)
        (environment / "parameters.yml").write_text(case.parameters)
        arguments += ["--env", "table_case"]
    if not case.stops:
        # The handling happens in validation and fitting; training adds nothing to check.
        arguments += ["--pipelines", "data_processing,features"]
    before = data_files(project)
    outcome = kedro_run(project, *arguments)
    if case.stops:
        assert_stops(outcome, *case.says)
        if "No nodes ran" in outcome.output:
            assert data_files(project) == before  # refused in validation: nothing written
    else:
        assert_handled(outcome, *case.says)


@pytest.fixture
def csv_table(scratch_project):
    project, _ = scratch_project
    path = project / CSV_TABLE
    yield path
    path.unlink(missing_ok=True)


def test_a_configured_column_repeated_in_a_csv_header_stops_the_run(scratch_project, csv_table):
    project, _ = scratch_project
    table = pd.read_parquet(project / "data" / "01_raw" / "demo_table.parquet").drop(
        columns=["photo"]
    )
    text = table.to_csv(index=False)
    header, body = text.split("\n", 1)
    rows = "".join(f"{row},1.5\n" for row in body.split("\n") if row)
    csv_table.write_text(f"{header},price\n{rows}")
    outcome = kedro_run(project, "--env", CSV_ENVIRONMENT, "--params", "image.columns=[]")
    assert_stops(
        outcome,
        "The raw table's header repeats the column name(s) 'price' (read as ['price', 'price.1'])",
        "rename the repeated columns in the file",
    )


def test_a_csv_that_is_not_comma_separated_names_the_columns_it_found(scratch_project, csv_table):
    project, _ = scratch_project
    table = pd.read_parquet(project / "data" / "01_raw" / "demo_table.parquet").drop(
        columns=["photo"]
    )
    table.to_csv(csv_table, index=False, sep=";")
    outcome = kedro_run(project, "--env", CSV_ENVIRONMENT, "--params", "image.columns=[]")
    assert_stops(outcome, "lacks the configured column(s)", "its columns are ['category;")


def test_a_raw_table_that_is_not_there_is_named(scratch_project, csv_table):
    project, _ = scratch_project
    outcome = kedro_run(project, "--env", CSV_ENVIRONMENT, "--params", "image.columns=[]")
    assert_stops(outcome, "table.csv")


def test_an_export_that_fails_leaves_the_runs_metrics_and_report(scratch_project, monkeypatch):
    project, _ = scratch_project
    reporting = project / "data" / "08_reporting"

    def refuse(*_: object) -> None:
        raise MultimodalKerasError("the serving model cannot be built (a stand-in failure)")

    monkeypatch.setattr("multimodal_keras.pipelines.serving.nodes.build_serving_model", refuse)
    before = {name: versions(reporting / name) for name in ("metrics.json", "run_report.html")}
    outcome = kedro_run(project)

    assert_stops(outcome, "the serving model cannot be built")
    for name, earlier in before.items():
        assert len(versions(reporting / name)) == len(earlier) + 1, name
