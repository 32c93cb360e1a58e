"""Synthetic tables: the configured columns, reproducible from a seed."""

from __future__ import annotations

import pandas as pd


def test_same_seed_gives_the_same_table_and_another_seed_another(make_tiny_table):
    first, second = make_tiny_table(rows=30, seed=3), make_tiny_table(rows=30, seed=3)

    pd.testing.assert_frame_equal(first, second)
    assert not first["price"].equals(make_tiny_table(rows=30, seed=4)["price"])


def test_table_has_the_configured_columns_and_a_binary_target(make_tiny_table, project_parameters):
    table = make_tiny_table(rows=40)

    configured = [
        column
        for name in ("categorical", "numerical", "text", "image")
        for column in project_parameters[name]["columns"]
    ]
    assert list(table.columns) == [*configured, project_parameters["table"]["target"]]
    assert set(table["sold"]) == {0, 1}
    assert isinstance(table["photo"].iloc[0], bytes)
