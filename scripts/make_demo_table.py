"""Write the demo table the default ``kedro run`` trains on, deterministically.

The columns and target come from the project's parameters (``table`` and the modality
sections), the generator's settings from ``demo``; the table is saved through the
catalog's ``raw_table`` entry. Run from the project root: ``python scripts/make_demo_table.py``.
"""

from __future__ import annotations

from pathlib import Path

from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project

from multimodal_keras.modalities import MODALITIES
from multimodal_keras.modalities.base import configured_columns
from multimodal_keras.synthetic import make_table


def main() -> None:
    project = Path(__file__).resolve().parents[1]
    bootstrap_project(project)
    with KedroSession.create(project_path=project) as session:
        context = session.load_context()
        params = context.params
        demo = params["demo"]
        columns = {name: configured_columns(params.get(name)) for name in MODALITIES}
        table = make_table(
            columns, params["table"]["target"], int(demo["rows"]), demo, int(demo["seed"])
        )
        context.catalog.save("raw_table", table)
        print(f"Wrote {len(table)} rows, columns {list(table.columns)}.")


if __name__ == "__main__":
    main()
