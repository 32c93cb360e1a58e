# ruff: noqa: E501  (case tables: one case per line reads best)
"""Bad tables of rows to score: ``kedro run --pipelines inference`` with the trained model.

Every row to score must get a prediction, so a row the model cannot read stops the run
whatever ``invalid_rows`` says for training; the sentence names the row and the column.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.bad_inputs.conftest import Outcome, assert_handled, assert_stops, cell, kedro_run, png

pytestmark = pytest.mark.integration

TARGET = "sold"
PRICE = "price 🙂"
TEXT = "long text"


def new_rows(project: Path) -> pd.DataFrame:
    """Rows to score: the first rows of the trained project's table, without the target."""
    table = pd.read_parquet(project / "data" / "01_raw" / "demo_table.parquet")
    return table.drop(columns=[TARGET]).head(20).reset_index(drop=True)


def half_image(table: pd.DataFrame) -> pd.DataFrame:
    whole = bytes(table.at[2, "photo"])
    return cell("photo", 2, whole[: len(whole) // 2])(table)


STOPS = [
    ("no rows", lambda t: t.head(0), ["The table of rows to score has no rows"]),
    ("a feature column missing", lambda t: t.drop(columns=[PRICE]),
     [f"lacks the configured column(s) '{PRICE}' (numerical)"]),
    ("a column under its serving name", lambda t: t.rename(columns={"capital-gain": "capital_gain"}),
     ["lacks the configured column(s) 'capital-gain' (numerical)"]),
    ("a word among numbers", lambda t: cell(PRICE, 4, "cheap")(t.astype({PRICE: str})),
     [f"row 4: {PRICE}='cheap' is not a finite number"]),
    ("an infinite number", cell(PRICE, 4, np.inf), [f"row 4: {PRICE}=inf is not a finite number"]),
    ("bytes that are no image", cell("photo", 2, b"GIF89a nonsense"), ["row 2: photo:"]),
    ("a truncated image", half_image, ["row 2: photo: a truncated or corrupt image"]),
    ("an empty image cell", cell("photo", 2, None), ["row 2: photo: the cell is empty"]),
    ("a decompression bomb", cell("photo", 2, png(20000, 20000)),
     ["row 2: photo: a decompression bomb"]),
]  # fmt: skip

# Problems the model reads past, each in its own row or column; two scorings hold them all.
ROW_CASES = {
    "a huge text cell": cell(TEXT, 0, "word " * 200_000),
    "an unseen category": cell("état", 1, "never seen in training"),
    "a category given as a number": cell("colour / shade", 2, 7),
    "a missing number": cell(PRICE, 3, np.nan),
    "an empty text": cell(TEXT, 4, ""),
}
COLUMN_CASES = {
    "extra columns": lambda t: t.assign(notes="ignored", sold=1),
    "columns in another order": lambda t: t[list(reversed(t.columns))],
    "numbers missing everywhere": lambda t: t.assign(**{PRICE: np.nan}),
    "categories missing everywhere": lambda t: t.assign(**{"état": None}),
    "text empty everywhere": lambda t: t.assign(**{TEXT: ""}),
}


def score(project: Path, rows: pd.DataFrame, folder: Path) -> tuple[Outcome, Path]:
    """``kedro run --pipelines inference`` on ``rows``; its outcome and predictions' path."""
    new_file, predictions = folder / "new_rows.parquet", folder / "predictions.parquet"
    rows.to_parquet(new_file)
    outcome = kedro_run(
        project,
        "--pipelines",
        "inference",
        "--params",
        f"new_rows_file={new_file},predictions_file={predictions}",
    )
    return outcome, predictions


@pytest.mark.parametrize(("name", "change", "says"), STOPS, ids=[case[0] for case in STOPS])
def test_a_bad_table_to_score_stops_with_one_sentence(
    trained_project, tmp_path, name, change, says
):
    project, _ = trained_project
    outcome, predictions = score(project, change(new_rows(project)), tmp_path)
    assert_stops(outcome, *says)
    assert not predictions.exists()


@pytest.fixture(scope="module")
def scored_past(trained_project, tmp_path_factory) -> dict[str, tuple[object, pd.DataFrame]]:
    """Two scorings: every row case in one table, every column case in another."""
    project, _ = trained_project
    runs = {}
    for label, cases in (("rows", ROW_CASES), ("columns", COLUMN_CASES)):
        rows = new_rows(project)
        for change in cases.values():
            rows = change(rows)
        rows = rows.astype({"colour / shade": str})
        outcome, predictions = score(project, rows, tmp_path_factory.mktemp(label))
        runs[label] = (outcome, pd.read_parquet(predictions) if predictions.exists() else None)
    return runs


@pytest.mark.parametrize(
    ("label", "name", "row"),
    [("rows", name, row) for row, name in enumerate(ROW_CASES)]
    + [("columns", name, None) for name in COLUMN_CASES],
    ids=[*ROW_CASES, *COLUMN_CASES],
)
def test_rows_the_model_can_read_get_one_prediction_each(scored_past, label, name, row):
    outcome, scored = scored_past[label]
    assert_handled(outcome)
    assert scored is not None and len(scored) == 20
    probabilities = scored.filter(like="probability").to_numpy()
    picked = probabilities if row is None else probabilities[row]
    assert np.isfinite(picked).all() and np.allclose(np.sum(probabilities, axis=1), 1.0)


def test_a_file_to_score_that_is_not_there_is_named(trained_project, tmp_path):
    project, _ = trained_project
    missing = tmp_path / "nowhere.parquet"
    outcome = kedro_run(project, "--pipelines", "inference", "--params", f"new_rows_file={missing}")
    assert_stops(outcome, "nowhere.parquet")
