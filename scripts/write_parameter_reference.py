"""Write docs/parameters.md from the parameters' schema and conf/base's values.

Run from the project root after changing a schema or a value in conf/base:
``python scripts/write_parameter_reference.py``.
"""

from __future__ import annotations

from _project import PROJECT, project_context

from multimodal_keras.parameters import reference

REFERENCE = PROJECT / "docs" / "parameters.md"


def main() -> None:
    with project_context("base") as context:
        REFERENCE.write_text(reference(context.params))
    print(f"Wrote {REFERENCE.relative_to(PROJECT)}")


if __name__ == "__main__":
    main()
