"""Finding the files of versioned catalog artifacts on disk."""

from __future__ import annotations

from pathlib import Path


def versions(artifact: Path) -> list[Path]:
    """A versioned artifact's saved files, oldest first."""
    return sorted(artifact.glob(f"*/{artifact.name}"))


def latest(artifact: Path) -> Path:
    """The newest saved version of a versioned artifact."""
    return versions(artifact)[-1]
