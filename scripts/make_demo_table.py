"""Write the demo table the default ``kedro run`` trains on, and new rows to score.

The columns and target come from the project's parameters (``table`` and the modality
sections), the generator's settings from ``demo``; the table is saved through the
catalog's ``raw_table`` entry and the new rows (``demo.new_rows``, without the target)
through ``inference_table``. Both are deterministic.
Run from the project root: ``python scripts/make_demo_table.py``.
"""

from __future__ import annotations

from pathlib import Path

from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project

from multimodal_keras.modalities import MODALITIES
from multimodal_keras.modalities.base import configured_columns
from multimodal_keras.synthetic import make_new_rows, make_table


def main() -> None:
    project = Path(__file__).resolve().parents[1]
    bootstrap_project(project)
    with KedroSession.create(project_path=project) as session:
        context = session.load_context()
        params = context.params
        demo = params["demo"]
        columns = {name: configured_columns(params.get(name)) for name in MODALITIES}
        target = params["table"]["target"]
        table = make_table(columns, target, int(demo["rows"]), demo, int(demo["seed"]))
        context.catalog.save("raw_table", table)
        print(f"Wrote {len(table)} rows, columns {list(table.columns)}.")
        new_rows = make_new_rows(columns, target, demo, demo["new_rows"])
        context.catalog.save("inference_table", new_rows)
        print(f"Wrote {len(new_rows)} new rows to score, columns {list(new_rows.columns)}.")


if __name__ == "__main__":
    main()
