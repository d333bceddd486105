"""Run one function per track on worker processes of this machine or on a Dask cluster.

``map_tracks(function, items, executor)`` calls ``function(item)`` for every
``(track_id, item)`` and yields ``(track_id, result)`` as each one finishes (completion
order, a bounded number of tracks in flight, so memory does not grow with the collection).
A track whose function raised, or whose worker died, yields a :class:`TrackFailure` with a
one-line error instead, and the other tracks go on. ``executor`` is a parameters block::

    executor:
      kind: local     # local: worker processes on this machine; dask: a Dask cluster
      n_jobs: -1      # worker processes (local) or LocalCluster workers (dask); -1: one per core
      address: null   # dask only: a running scheduler (tcp://host:8786); null starts a
                      # distributed.LocalCluster sized to this machine

``local`` keeps one pool of worker processes alive across calls of the same function (loky's
reusable executor; another function gets a new pool),
with BLAS, OpenMP and numba pinned to one thread per worker so the workers do not fight for
the cores; workers exit when the parent process dies. When the first two tracks (computed in
this process) show that the rest is too little work to pay for starting workers, everything runs
here. ``dask`` runs the same function on the cluster's workers (one thread each on a
LocalCluster; Dask's nannies already start workers with BLAS and OpenMP at one thread); the
workers need this package installed and must reach the items (for audio:
paths on a shared file system or an object store that fsspec reads).

On a real cluster: start ``dask scheduler`` on one machine and ``dask worker
tcp://<scheduler>:8786 --nthreads 1`` on each worker machine (or run Dask on Kubernetes), then
``--params feature_engineering.executor.kind=dask,feature_engineering.executor.address=
tcp://<scheduler>:8786``. Shared between the run and the workers: this package and its
dependencies at the same versions, and the raw clips at the same path (a shared file system
mounted alike everywhere, with an absolute ``raw_clips`` path in the catalog, or an object store
URL such as ``s3://bucket/01_raw`` with credentials on every worker). Results come back to the
run, which writes them: only it needs write access to the feature layer.

``function`` is sent to the workers with every task, so it must be small and picklable: a
top-level function or a ``functools.partial`` of one. Anything heavy (a TensorFlow model) is
built once per worker process, never passed in: the function gets it from a module-level
cached builder, which runs on the first track each worker sees::

    @functools.lru_cache(maxsize=1)
    def embedding_model(weights: str) -> keras.Model: ...

    def embed(load, *, weights):
        return embedding_model(weights).predict(frames_of(load()))
"""

from __future__ import annotations

import atexit
import concurrent.futures
import functools
import importlib.util
import itertools
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from joblib import cpu_count
from loky import get_reusable_executor
from threadpoolctl import threadpool_limits

from gtzan_kedro.errors import InputError

logger = logging.getLogger(__name__)

KINDS = ("local", "dask")
# What starting the worker processes costs (interpreter, numpy, librosa), measured on 2 cores;
# below that much saved time the tracks are computed in this process.
WORKER_START_SECONDS = 2.0
# Tracks queued per worker: enough to keep every worker busy, few enough to bound memory.
_IN_FLIGHT_PER_WORKER = 4
# Idle local workers exit after this many seconds; the next call starts new ones.
_IDLE_WORKER_SECONDS = 300
# What the worker pool serves: its size and the function it runs. A pool serves one function:
# loky restarts a worker whose memory grows 300 MB past its size after its first task, so a
# pool that computed log-mel would restart every worker once musicnn loads TensorFlow into it
# (each then importing TensorFlow and building the network again).
_POOL: dict[str, tuple[int, str] | None] = {"serves": None}
# One thread per worker for every native thread pool a featuriser may load.
ONE_THREAD_ENV = dict.fromkeys(
    (
        "OMP_NUM_THREADS",
        "OPENBLAS_NUM_THREADS",
        "MKL_NUM_THREADS",
        "VECLIB_MAXIMUM_THREADS",
        "NUMEXPR_NUM_THREADS",
        "NUMBA_NUM_THREADS",
        # TensorFlow's own pools (musicnn embeddings), read when TensorFlow first starts.
        "TF_NUM_INTRAOP_THREADS",
        "TF_NUM_INTEROP_THREADS",
    ),
    "1",
)


@dataclass(frozen=True)
class TrackFailure:
    """A track whose function failed: its id and the error in one line."""

    track_id: str
    error: str


def map_tracks(
    function: Callable[[Any], Any],
    items: Mapping[str, Any],
    executor: Mapping[str, Any],
    *,
    parameter: str = "feature_engineering.executor",
) -> Iterator[tuple[str, Any]]:
    """Yield ``(track_id, function(item))`` or ``(track_id, TrackFailure)`` as tracks finish.

    ``parameter`` names the ``executor`` block in error messages.
    """
    kind = executor.get("kind", "local")
    if kind not in KINDS:
        raise InputError(f"Unknown parameter value {parameter}.kind={kind!r}: use local or dask.")
    n_workers = worker_count(executor.get("n_jobs", -1), f"{parameter}.n_jobs")
    if not items:
        return
    if kind == "dask":
        client = dask_client(executor.get("address"), n_workers, parameter)
        yield from _map_dask(client, function, iter(items.items()))
    else:
        yield from _map_local(function, iter(items.items()), len(items), n_workers)


def worker_count(n_jobs: Any, parameter: str) -> int:
    """Return how many workers ``n_jobs`` asks for (negative: counted back from the cores)."""
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, int) or n_jobs == 0:
        raise InputError(
            f"Parameter {parameter}={n_jobs!r} must be a positive number of workers, or -1 for "
            "one per core (-2: all but one ...)."
        )
    return n_jobs if n_jobs > 0 else max(1, cpu_count() + 1 + n_jobs)


# ------------------------------------------------------------------------------- one track


def _call(function: Callable[[Any], Any], track_id: str, item: Any) -> Any:
    """Return ``function(item)``, or a :class:`TrackFailure` if it raised (runs on a worker)."""
    try:
        return function(item)
    except Exception as error:  # any error of one track is that track's failure
        return TrackFailure(track_id, one_line(error))


def one_line(error: BaseException) -> str:
    """Return the error's type and the first line of its message."""
    message = str(error).strip().splitlines()
    return f"{type(error).__name__}: {message[0]}" if message else type(error).__name__


def _outcome(track_id: str, future: Any) -> Any:
    """Return a finished future's result, or a :class:`TrackFailure` if it did not arrive."""
    try:
        return future.result()
    except Exception as error:  # a dead worker, or a result that did not unpickle
        return TrackFailure(track_id, one_line(error))


# ----------------------------------------------------------------------------------- local


def _map_local(
    function: Callable[[Any], Any],
    pending: Iterator[tuple[str, Any]],
    n_items: int,
    n_workers: int,
) -> Iterator[tuple[str, Any]]:
    """Run the first tracks here; run the rest on worker processes if that pays."""
    seconds = 0.0
    with threadpool_limits(limits=1):
        # The second track's time, not the first's: that one pays for warming caches up.
        for track_id, item in itertools.islice(pending, 2 if n_workers > 1 else 0):
            started = time.perf_counter()
            yield track_id, _call(function, track_id, item)
            seconds = time.perf_counter() - started
    start_up = 0.0 if _POOL["serves"] == (n_workers, _work_of(function)) else WORKER_START_SECONDS
    if (n_items - 2) * seconds * (1 - 1 / n_workers) <= start_up:
        logger.debug("Computing %d tracks in one process: too little work for workers.", n_items)
        with threadpool_limits(limits=1):
            for track_id, item in pending:
                yield track_id, _call(function, track_id, item)
        return
    yield from _map_pool(function, pending, n_workers)


def _map_pool(
    function: Callable[[Any], Any], pending: Iterator[tuple[str, Any]], n_workers: int
) -> Iterator[tuple[str, Any]]:
    """Run every track on the reusable worker pool, yielding results as they complete.

    The pool of an earlier call is reused if it served the same function, else replaced.
    """
    in_flight: dict[concurrent.futures.Future, str] = {}
    serves = (n_workers, _work_of(function))
    reuse: bool | str = "auto" if _POOL["serves"] in (None, serves) else False
    _POOL["serves"] = serves

    def submit(count: int) -> None:
        nonlocal reuse
        for track_id, item in itertools.islice(pending, count):
            # Asked for each time: a pool broken by a dying worker is replaced by a new one.
            pool = get_reusable_executor(
                max_workers=n_workers,
                timeout=_IDLE_WORKER_SECONDS,
                reuse=reuse,
                initializer=_prepare_worker,
                initargs=(os.getpid(),),
                env=ONE_THREAD_ENV,
            )
            reuse = "auto"
            in_flight[pool.submit(_call, function, track_id, item)] = track_id

    try:
        submit(n_workers * _IN_FLIGHT_PER_WORKER)
        while in_flight:
            done, _ = concurrent.futures.wait(
                in_flight, return_when=concurrent.futures.FIRST_COMPLETED
            )
            for future in done:
                track_id = in_flight.pop(future)
                yield track_id, _outcome(track_id, future)
            submit(len(done))
    finally:
        for future in in_flight:
            future.cancel()


def _work_of(function: Callable[[Any], Any]) -> str:
    """The top-level function that ``function`` (itself or a partial of it) runs."""
    while isinstance(function, functools.partial):
        function = function.func
    return f"{function.__module__}.{function.__qualname__}"


def _prepare_worker(parent_pid: int) -> None:
    """Pin native thread pools to one thread and exit when the parent process dies."""
    threadpool_limits(limits=1)
    threading.Thread(target=_exit_with_parent, args=(parent_pid,), daemon=True).start()


def _exit_with_parent(parent_pid: int) -> None:
    """Exit this worker as soon as it is no longer the child of ``parent_pid``."""
    while os.getppid() == parent_pid:
        time.sleep(0.5)
    os._exit(1)  # the parent was killed: nobody will collect this worker's results


# ------------------------------------------------------------------------------------ dask


def _map_dask(
    client: Any, function: Callable[[Any], Any], pending: Iterator[tuple[str, Any]]
) -> Iterator[tuple[str, Any]]:
    """Run every track on the Dask cluster, yielding results as they complete."""
    from distributed import as_completed  # noqa: PLC0415 - only runs that ask for dask need it

    n_threads = max(1, sum(client.nthreads().values()))
    in_flight: dict[Any, str] = {}

    def submit(count: int) -> list:
        futures = []
        for track_id, item in itertools.islice(pending, count):
            future = client.submit(_call, function, track_id, item, pure=False)
            in_flight[future] = track_id
            futures.append(future)
        return futures

    completed = as_completed(submit(n_threads * _IN_FLIGHT_PER_WORKER))
    try:
        for future in completed:
            track_id = in_flight.pop(future)
            yield track_id, _outcome(track_id, future)
            future.release()
            for new in submit(1):
                completed.add(new)
    finally:
        client.cancel(list(in_flight))


def dask_client(address: str | None, n_workers: int, parameter: str) -> Any:
    """Return a client of the scheduler at ``address``, or of a LocalCluster of ``n_workers``.

    One per process: a cluster takes seconds to start and is reused by later calls.
    """
    key = (address, None if address else n_workers)
    if importlib.util.find_spec("distributed") is None:
        raise InputError(
            f"{parameter}.kind=dask needs Dask's distributed scheduler, an optional extra: "
            "`.venv/bin/uv pip install -e '.[dask]'` (or pip) in the project folder installs it."
        )
    if key not in _DASK:
        try:
            _DASK[key] = _connect(address, n_workers)
        except OSError as error:
            raise InputError(
                f"Cannot reach the Dask scheduler at {parameter}.address={address!r} "
                f"({one_line(error)}): start it (`dask scheduler`) or set the address to null "
                "for a cluster on this machine."
            ) from None
    return _DASK[key][0]


def close_dask_clients() -> None:
    """Close every Dask client, and LocalCluster, that this process started."""
    while _DASK:
        _, (client, cluster) = _DASK.popitem()
        client.close()
        if cluster is not None:
            cluster.close()


def _connect(address: str | None, n_workers: int) -> tuple[Any, Any]:
    """Return ``(client, cluster)``: the cluster is None when it runs elsewhere."""
    from distributed import Client, LocalCluster  # noqa: PLC0415 - only dask runs need it

    cluster = None
    if address:
        client = Client(address)
    else:
        cluster = LocalCluster(
            n_workers=n_workers, threads_per_worker=1, processes=True, dashboard_address=None
        )
        client = Client(cluster)
    logger.info(
        "Dask scheduler at %s, %d workers.", client.scheduler.address, len(client.nthreads())
    )
    return client, cluster


_DASK: dict[tuple[str | None, int | None], tuple[Any, Any]] = {}
atexit.register(close_dask_clients)
