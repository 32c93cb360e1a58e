"""Kedro's configuration loader, with each environment's artifacts in a folder of its own.

The catalog writes every derived artifact under ``${data_folder:}``: ``data`` for the
default environment (``local``) and for ``base``, ``data/<env>`` for any other, so that a
run with ``--env A`` never reads or overwrites what ``--env B`` wrote. The resolver reads
the environment of the loader that is resolving, so two loaders in one process (a test's,
kedro-viz's) never see each other's.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

from kedro.config import OmegaConfigLoader

DATA_ROOT = "data"
# Environments whose artifacts stay at the data root: base, and the default run environment.
SHARED_ENVIRONMENTS = frozenset({"base", "local"})

_resolving_env: ContextVar[str | None] = ContextVar("resolving_env", default=None)


def data_folder_for(env: str | None) -> str:
    """The folder an environment's artifacts live under, relative to the project."""
    if env is None or env in SHARED_ENVIRONMENTS:
        return DATA_ROOT
    return f"{DATA_ROOT}/{env}"


def data_folder() -> str:
    """``${data_folder:}``: the data folder of the environment being resolved."""
    return data_folder_for(_resolving_env.get())


class ProjectConfigLoader(OmegaConfigLoader):
    """``OmegaConfigLoader`` that resolves ``${data_folder:}`` for its own environment."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        resolvers = dict(kwargs.pop("custom_resolvers", None) or {})
        resolvers.setdefault("data_folder", data_folder)
        super().__init__(*args, custom_resolvers=resolvers, **kwargs)

    @property
    def run_env(self) -> str | None:
        """The environment this loader reads: the one given, or the default run environment."""
        return self.env or self.default_run_env

    def __getitem__(self, key: str) -> dict[str, Any]:
        token = _resolving_env.set(self.run_env)
        try:
            return super().__getitem__(key)
        finally:
            _resolving_env.reset(token)
