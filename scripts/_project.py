"""What the data scripts share: the project's context in one configuration environment."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from kedro.framework.context import KedroContext
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project

PROJECT = Path(__file__).resolve().parents[1]


@contextmanager
def project_context(env: str) -> Iterator[KedroContext]:
    """The Kedro context of ``conf/<env>``: its parameters and its catalog (paths made absolute)."""
    os.environ.setdefault("KEDRO_DISABLE_TELEMETRY", "1")
    bootstrap_project(PROJECT)
    with KedroSession.create(project_path=PROJECT, env=env) as session:
        yield session.load_context()
