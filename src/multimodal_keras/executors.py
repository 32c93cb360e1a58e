"""Where per-chunk work runs: in this process, chunk after chunk, or on a Dask cluster.

``chunk_map`` applies a function to each chunk of a table and yields the results in the
chunks' order, whatever runs them, so that the nodes that fit and transform read the
same way with ``processing.executor: local`` or ``dask`` and write the same artifacts.

With ``dask``, this process still reads the table and writes every artifact: it sends
each chunk to a worker of a ``dask.distributed`` cluster, which runs the function, and
takes the results back in order. Only a few chunks are out at a time (``IN_FLIGHT_PER_THREAD``
per worker thread), so memory stays bounded here and on the workers however long the
table. Workers need the project's code (``multimodal_keras`` importable, the same
versions of its dependencies), not its data.

The cluster is ``processing.dask.address``, a running scheduler, or, when that is null, a
``LocalCluster`` of ``processing.dask.workers`` worker processes started on first use.
One client per process and setting is kept for every later node of the run (a Kedro run
calls ``chunk_map`` once per fit and transform) and closed, with any cluster it started,
when the process exits; ``close_clients`` closes them earlier.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, TypeVar

from multimodal_keras.errors import MultimodalKerasError

Chunk = TypeVar("Chunk")
Result = TypeVar("Result")

EXECUTORS = ("local", "dask")
# Chunks sent out per worker thread: one being worked on and one waiting beside it, so that a
# thread never idles while this process reads the next chunk, and no more are held anywhere.
IN_FLIGHT_PER_THREAD = 2
# Dask logs each worker's start and stop; the run's log keeps Dask's warnings only. The level
# reaches the worker processes through their environment, read as they start.
DASK_LOG_LEVEL = logging.WARNING
DASK_LOG_VARIABLE = "DASK_LOGGING__DISTRIBUTED"
logger = logging.getLogger(__name__)
INSTALL_DASK = 'pip install "multimodal-keras[dask]" (or pip install "dask[distributed]")'


def chunk_map(
    function: Callable[[Chunk], Result], chunks: Iterable[Chunk], processing: Mapping[str, Any]
) -> Iterator[Result]:
    """``function`` of every chunk, in order, run where ``processing.executor`` says.

    Chunks are read from ``chunks`` only as results are taken, so that a few are in memory
    at a time. Under ``dask`` an exception raised by ``function`` on a worker is raised here,
    of the same type and with the same message, and the chunks still out are cancelled.
    """
    settings = processing or {}
    executor = settings.get("executor", "local")
    if executor == "local":
        return map(function, chunks)
    if executor == "dask":
        return _dask_map(function, chunks, client(settings.get("dask") or {}))
    raise MultimodalKerasError(
        f"processing.executor is {executor!r}; use one of {', '.join(EXECUTORS)}."
    )


def _apply(function: Callable[[Chunk], Result], chunk: Chunk) -> Result:
    """What a worker runs for one chunk (``function`` is sent to each worker once)."""
    return function(chunk)


def _dask_map(
    function: Callable[[Chunk], Result], chunks: Iterable[Chunk], dask_client: Any
) -> Iterator[Result]:
    """Results of ``function`` over ``chunks`` on ``dask_client``'s cluster, in order."""
    threads = sum(dask_client.nthreads().values())
    limit = max(threads, 1) * IN_FLIGHT_PER_THREAD
    # Sent to every worker once, rather than with each chunk (a fitted preprocessor can be
    # large); ``hash=False`` spares hashing what is sent, which is never looked up by value.
    # (Scattered in a list, so that a chunk or function that is itself a collection is sent
    # as one object.)
    [shared] = dask_client.scatter([function], broadcast=True, hash=False)
    pending: deque[Any] = deque()
    source = iter(chunks)
    try:
        while True:
            while len(pending) < limit:
                chunk = next(source, _END)
                if chunk is _END:
                    break
                # Scattered first, so that the chunk goes straight to one worker (taken in
                # turn) rather than through the scheduler inside the task's description.
                [data] = dask_client.scatter([chunk], hash=False)
                pending.append(dask_client.submit(_apply, shared, data, pure=False))
            if not pending:
                return
            # The oldest chunk's result first, whichever finished first: order is the
            # chunks' order.
            future = pending.popleft()
            result = future.result()
            future.release()
            yield result
    finally:
        for future in pending:
            future.cancel()
        shared.release()


_END = object()

_clients: dict[tuple[Any, ...], Any] = {}
_clusters: dict[tuple[Any, ...], Any] = {}
_lock = threading.Lock()


def client(dask: Mapping[str, Any]) -> Any:
    """The ``distributed.Client`` for ``processing.dask`` settings, made on first use.

    ``address`` connects to that scheduler; null starts a ``LocalCluster`` of ``workers``
    processes with ``threads_per_worker`` threads each. Nodes run in threads
    (``ThreadRunner``) share it.
    """
    try:
        from distributed import Client, LocalCluster
    except ImportError as error:
        raise MultimodalKerasError(
            f"processing.executor is dask, but dask.distributed is not installed: {INSTALL_DASK}."
        ) from error
    address = dask.get("address")
    key = (address,) if address else (None, dask.get("workers"), dask.get("threads_per_worker"))
    with _lock:
        if key in _clients and _clients[key].status == "running":
            return _clients[key]
        if key in _clusters:  # closed since: start afresh
            _clusters.pop(key).close()
        if address:
            try:
                made = Client(address)
            except OSError as error:
                raise MultimodalKerasError(
                    f"No Dask scheduler answered at processing.dask.address {address!r} "
                    f"({error}); start one there (dask scheduler, then dask worker on each "
                    "machine), or set the address to null for a cluster on this machine."
                ) from error
        else:
            cluster = _local_cluster(LocalCluster, dask)
            _clusters[key] = cluster
            made = Client(cluster)
        _clients[key] = made
        logger.info(
            "Per-chunk work runs on the Dask cluster at %s: %d worker thread(s), dashboard %s.",
            made.scheduler.address,
            sum(made.nthreads().values()),
            made.dashboard_link,
        )
        return made


def _local_cluster(cluster_class: Any, dask: Mapping[str, Any]) -> Any:
    """A ``LocalCluster`` of worker processes that log warnings only.

    Dask's nannies set the workers' environment in this process before starting them
    (one thread each for numpy's libraries, among others); it is put back afterwards, so
    that the rest of the run (training) keeps its own.
    """
    import dask as dask_library

    environment = dict(os.environ)
    level = logging.getLevelName(DASK_LOG_LEVEL).lower()
    logging.getLogger("distributed").setLevel(DASK_LOG_LEVEL)
    try:
        with dask_library.config.set(
            {f"distributed.nanny.pre-spawn-environ.{DASK_LOG_VARIABLE}": level}
        ):
            return cluster_class(
                n_workers=int(dask["workers"]),
                threads_per_worker=int(dask["threads_per_worker"]),
                processes=True,
            )
    finally:
        os.environ.clear()
        os.environ.update(environment)


def close_clients() -> None:
    """Close every client ``client`` made, and the local clusters it started."""
    with _lock:
        for made in _clients.values():
            made.close()
        for cluster in _clusters.values():
            cluster.close()
        _clients.clear()
        _clusters.clear()


atexit.register(close_clients)
