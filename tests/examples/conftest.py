"""Fixtures of the example tests: scratch copies of the project, and base's parameters."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.configuration import load_conf
from tests.scratch_project import make_project_copy


@pytest.fixture
def project_copy(tmp_path: Path) -> Callable[..., Path]:
    """Factory of scratch projects: ``project_copy(raw_files=[...])``."""
    return lambda raw_files=(): make_project_copy(tmp_path / "project", raw_files)


@pytest.fixture(scope="session")
def base_parameters() -> dict[str, Any]:
    """The parameters of ``conf/base``."""
    return load_conf("parameters")
