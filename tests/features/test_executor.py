"""Per-track work on local worker processes or a Dask cluster, one result per track."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import joblib
import psutil
import pytest

from gtzan_kedro.errors import InputError
from gtzan_kedro.features import executor as executor_module
from gtzan_kedro.features.executor import TrackFailure, map_tracks


def square_with_pid(value: int) -> tuple[int, int]:
    """The square of ``value`` and the process that computed it."""
    if value == 3:
        raise ValueError("cannot featurise track three\nsecond line of detail")
    return value * value, os.getpid()


ITEMS = {f"track{value}": value for value in range(8)}


def check_results(results: list) -> set[int]:
    """Assert one outcome per track, the failure of track3, and return the worker pids."""
    outcomes = dict(results)
    assert len(results) == len(ITEMS) and set(outcomes) == set(ITEMS)
    assert outcomes.pop("track3") == TrackFailure(
        "track3", "ValueError: cannot featurise track three"
    )
    assert {track_id: square for track_id, (square, _) in outcomes.items()} == {
        track_id: value * value for track_id, value in ITEMS.items() if value != 3
    }
    return {pid for _, pid in outcomes.values()}


def test_local_workers_compute_every_track_and_report_the_failing_one(monkeypatch):
    monkeypatch.setattr(executor_module, "WORKER_START_SECONDS", 0.0)  # workers always pay

    pids = check_results(list(map_tracks(square_with_pid, ITEMS, {"kind": "local", "n_jobs": 2})))

    assert pids - {os.getpid()}, "no track was computed on a worker process"
    # The pool stays alive: a second call is served by worker processes started for the first.
    workers = {child.pid for child in psutil.Process().children(recursive=True)}
    again = check_results(list(map_tracks(square_with_pid, ITEMS, {"kind": "local", "n_jobs": 2})))
    assert (again - {os.getpid()}) <= workers


def cube_with_pid(value: int) -> tuple[int, int]:
    """The cube of ``value`` and the process that computed it."""
    return value**3, os.getpid()


def test_another_function_gets_a_pool_of_its_own(monkeypatch):
    # A worker's memory reference is taken after its first task: a pool shared by a light
    # featuriser and one that loads TensorFlow would see a leak and restart its workers.
    monkeypatch.setattr(executor_module, "WORKER_START_SECONDS", 0.0)
    squares = check_results(
        list(map_tracks(square_with_pid, ITEMS, {"kind": "local", "n_jobs": 2}))
    )

    cubes = dict(map_tracks(cube_with_pid, ITEMS, {"kind": "local", "n_jobs": 2}))
    cube_workers = {pid for _, pid in cubes.values()} - {os.getpid()}
    squares_again = check_results(
        list(map_tracks(square_with_pid, ITEMS, {"kind": "local", "n_jobs": 2}))
    )

    assert {track_id: cube for track_id, (cube, _) in cubes.items()} == {
        track_id: value**3 for track_id, value in ITEMS.items()
    }
    assert cube_workers and not cube_workers & squares
    assert not (squares_again - {os.getpid()}) & cube_workers


def test_scikit_learn_parallelism_still_works_after_featurisation_on_workers(monkeypatch):
    monkeypatch.setattr(executor_module, "WORKER_START_SECONDS", 0.0)
    check_results(list(map_tracks(square_with_pid, ITEMS, {"kind": "local", "n_jobs": 2})))

    # What an architecture with n_jobs (a random forest, a grid search) runs next in the session.
    squares = joblib.Parallel(n_jobs=2)(joblib.delayed(pow)(value, 2) for value in range(4))

    assert squares == [0, 1, 4, 9]


def test_too_little_work_runs_in_this_process(monkeypatch):
    monkeypatch.setattr(executor_module, "WORKER_START_SECONDS", 3600.0)
    monkeypatch.setitem(executor_module._POOL, "serves", None)  # no pool running yet

    pids = check_results(list(map_tracks(square_with_pid, ITEMS, {"kind": "local", "n_jobs": 2})))

    assert pids == {os.getpid()}


def test_dask_cluster_computes_every_track_and_reports_the_failing_one():
    import distributed  # noqa: PLC0415 - the only test that needs it

    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        executor = {"kind": "dask", "address": cluster.scheduler_address}
        try:
            pids = check_results(list(map_tracks(square_with_pid, ITEMS, executor)))
        finally:
            executor_module.close_dask_clients()

    assert os.getpid() not in pids


def test_dask_executor_without_the_dask_extra_names_the_extra_to_install(monkeypatch):
    # None in sys.modules is how Python marks a module that cannot be imported.
    monkeypatch.setitem(sys.modules, "distributed", None)

    with pytest.raises(InputError, match=r"executor\.kind=dask .*'\.\[dask\]'"):
        list(map_tracks(square_with_pid, ITEMS, {"kind": "dask"}))


@pytest.mark.parametrize(
    ("executor", "message"),
    [
        ({"kind": "spark"}, "feature_engineering.executor.kind='spark'"),
        ({"kind": "local", "n_jobs": 0}, "feature_engineering.executor.n_jobs=0"),
        ({"kind": "local", "n_jobs": "all"}, "feature_engineering.executor.n_jobs='all'"),
    ],
)
def test_bad_executor_parameters_are_named(executor, message):
    with pytest.raises(InputError, match=message.replace(".", r"\.")):
        list(map_tracks(square_with_pid, ITEMS, executor))


PARENT = textwrap.dedent(
    """
    import os, sys, time
    from gtzan_kedro.features import executor
    executor.WORKER_START_SECONDS = 0.0

    def slow_pid(value):
        time.sleep(0.2)
        return os.getpid()

    if __name__ == "__main__":
        for _, pid in executor.map_tracks(slow_pid, {str(i): i for i in range(1000)}, {"n_jobs": 2}):
            if pid != os.getpid():
                print(pid, flush=True)
    """
)


def test_workers_exit_when_the_parent_is_killed(tmp_path: Path):
    script = tmp_path / "parent.py"
    script.write_text(PARENT)
    parent = subprocess.Popen(
        [sys.executable, str(script)], stdout=subprocess.PIPE, text=True, env=os.environ.copy()
    )
    workers: set[int] = set()
    while len(workers) < 2:  # both workers have answered
        workers.add(int(parent.stdout.readline()))
    os.kill(parent.pid, signal.SIGKILL)
    parent.wait()

    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(alive(pid) for pid in workers):
        time.sleep(0.2)
    assert not any(alive(pid) for pid in workers)


def alive(pid: int) -> bool:
    """Whether process ``pid`` still runs (a zombie waiting for its reaper does not)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False
