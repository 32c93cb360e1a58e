"""``training.distribution``: the strategy's name and the logical CPUs, read and checked."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from multimodal_keras.errors import MultimodalKerasError

DEFAULT = "default"
MIRRORED = "mirrored"
MULTI_WORKER = "multi_worker"
STRATEGIES = (DEFAULT, MIRRORED, MULTI_WORKER)


@dataclass(frozen=True)
class Distribution:
    """How training is spread: the strategy's name, and how many logical CPUs to make."""

    strategy: str = DEFAULT
    logical_cpus: int | None = None

    @classmethod
    def from_training(cls, training: Mapping[str, Any]) -> Distribution:
        """The ``distribution`` block of ``params:training``; ``default`` when it is absent."""
        settings = training.get("distribution") or {}
        strategy = settings.get("strategy") or DEFAULT
        if strategy not in STRATEGIES:
            raise MultimodalKerasError(
                f"training.distribution.strategy is {strategy!r}, which is not a strategy; "
                f"set it to one of {', '.join(STRATEGIES)} in "
                "conf/base/parameters_training.yml or with --params."
            )
        logical_cpus = settings.get("logical_cpus")
        if logical_cpus is not None and (
            isinstance(logical_cpus, bool) or not isinstance(logical_cpus, int) or logical_cpus < 1
        ):
            raise MultimodalKerasError(
                f"training.distribution.logical_cpus is {logical_cpus!r}; set it to a whole "
                "number of at least 1, or to null to leave the CPU whole."
            )
        return cls(strategy, logical_cpus)
