"""Write the Palmer penguins table the ``penguins`` environment trains on.

The table is the one the ``palmerpenguins`` package ships (344 penguins of three species,
CC0), written unchanged, missing values included, through the ``raw_table`` entry of
``conf/penguins/catalog.yml``. The result is committed, so runs do not need the package;
to rebuild it: ``pip install palmerpenguins`` then ``python scripts/make_penguins_table.py``.
"""

from __future__ import annotations

from _project import project_context
from palmerpenguins import load_penguins

ENVIRONMENT = "penguins"


def main() -> None:
    table = load_penguins()
    with project_context(ENVIRONMENT) as context:
        context.catalog.save("raw_table", table)
    print(f"Wrote {len(table)} penguins, columns {list(table.columns)}.")


if __name__ == "__main__":
    main()
