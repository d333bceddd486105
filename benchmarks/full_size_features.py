"""Featurisation speed: the pipeline's log-mel extraction against a one-process loop.

Both sides do the same work per clip (decode, log-mel, save one ``.npy``), with BLAS, OpenMP
and numba at one thread (the loop through threadpoolctl, the workers through their
environment), on the same files, in the same run:

1. ``kedro run --nodes extract_log_mels`` with an empty feature cache (``executor.kind=local``):
   worker start-up and the featurisation of every clip;
2. the same command again on the unchanged files: every log-mel is reused, so this is the
   listing and fingerprinting alone; 1 - 2 is what featurisation costs the run, worker
   start-up included;
3. as 1 with ``executor.kind=dask``: a ``distributed.LocalCluster`` (one process per core,
   one thread each) started by the run, its start-up included;
4. a plain loop in this process over the same files, timed per stage (decode, log-mel,
   save);
5. the loop and ``map_tracks`` (the node's executor, local workers) alternating by blocks of
   200 files in this process: the shared machine's load changes from minute to minute, and
   alternating exposes both sides to the same load (worker start-up counted once).

The dataset is GTZAN-sized (10 genres x 100 clips of 30 s by default), but only
``--unique-per-genre`` clips per genre are synthesised (the generator is slow); the others are
hard links to them under their own names, so every file is decoded, featurised and saved on
its own, as a real collection's would be (all from the page cache after the first read).
Node times come from the run's log (millisecond timestamps, from the node's first input
load to its completion), so session start-up does not blur them. Peak memory is the largest sum of PSS over the `kedro run` process and its children
(workers), sampled every 0.1 s.

Run from the project root (a few minutes on 2 cores)::

    .venv/bin/python benchmarks/full_size_features.py
"""

from __future__ import annotations

import argparse
import datetime
import functools
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import joblib
from joblib.externals.loky import get_reusable_executor
from threadpoolctl import threadpool_limits

from gtzan_kedro.datasets import AudioDataset, NumpyArrayDataset
from gtzan_kedro.features.executor import map_tracks
from gtzan_kedro.genres import GENRES
from gtzan_kedro.pipelines.feature_engineering.nodes import _load_log_mel, log_mel_spectrogram
from gtzan_kedro.sources.generator import synthesise_clip

PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_ROOT))  # for tests.conftest.copy_project
from tests.conftest import copy_project  # noqa: E402

SAMPLE_RATE = 22050
LOG_MEL = {"sample_rate": SAMPLE_RATE, "n_fft": 2048, "hop_length": 512, "n_mels": 64}
FEATURES = Path("data") / "04_feature" / "log_mel_spectrograms"


def tree_memory_bytes(root: int) -> int:
    """Return the summed PSS of process ``root`` and all its descendants (Linux)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    parent = int(stat.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue  # the process ended while we looked
            children.setdefault(parent, []).append(int(entry))
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        try:
            with open(f"/proc/{pid}/smaps_rollup") as rollup:
                total += sum(int(line.split()[1]) * 1024 for line in rollup if line[:4] == "Pss:")
        except (OSError, IndexError, ValueError):
            pass  # the process ended while we looked
        stack.extend(children.get(pid, []))
    return total


@contextmanager
def peak_memory(pid: int) -> Iterator[dict[str, float]]:
    """Sample the PSS of ``pid`` and its children until the block ends; yield the peak in GB."""
    result = {"pss": 0.0}
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            result["pss"] = max(result["pss"], tree_memory_bytes(pid) / 1e9)
            done.wait(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        yield result
    finally:
        done.set()
        sampler.join()


# Plain lines with millisecond timestamps: node times are read from them.
LOGGING_CONFIG = """
version: 1
disable_existing_loggers: false
formatters:
  timed: {format: "%(asctime)s.%(msecs)03d %(name)s %(levelname)s %(message)s", datefmt: "%H:%M:%S"}
handlers:
  file: {class: logging.StreamHandler, formatter: timed, stream: ext://sys.stdout}
loggers:
  kedro: {level: INFO}
  gtzan_kedro: {level: INFO}
root: {handlers: [file], level: WARNING}
"""


def node_seconds(log: Path, node: str = "extract_log_mels") -> float:
    """Seconds from the node's first input load to its completion, read from a run's log."""
    started = None
    for line in log.read_text().splitlines():
        clock = line.split(" ", 1)[0]
        if "Loading data from" in line and started is None:
            started = datetime.datetime.strptime(clock, "%H:%M:%S.%f")
        elif "Completed node: " in line:
            if line.rstrip().endswith(f"Completed node: {node}"):
                ended = datetime.datetime.strptime(clock, "%H:%M:%S.%f")
                return (ended - started).total_seconds()
            started = None  # the next load belongs to the next node
    raise ValueError(f"node {node} did not complete in {log}")


def kedro_run(project: Path, args: list[str], log_name: str) -> tuple[float, float]:
    """Run ``kedro run <args>`` in ``project``; return its seconds and peak PSS in GB."""
    command = [sys.executable, "-m", "kedro", "run", *args]
    log = project / "logs" / f"{log_name}.log"
    log.parent.mkdir(exist_ok=True)
    logging_config = project / "logs" / "logging.yml"
    logging_config.write_text(LOGGING_CONFIG)
    environment = {
        **os.environ,
        "KEDRO_DISABLE_TELEMETRY": "true",
        "DO_NOT_TRACK": "1",
        "KEDRO_LOGGING_CONFIG": str(logging_config),
    }
    started = time.perf_counter()
    with log.open("w") as output:
        process = subprocess.Popen(
            command, cwd=project, env=environment, stdout=output, stderr=subprocess.STDOUT
        )
        with peak_memory(process.pid) as memory:
            process.wait()
    seconds = time.perf_counter() - started
    if process.returncode:
        raise SystemExit(f"{' '.join(command)} failed; see {log}")
    print(f"  {log_name}: {seconds:.1f} s, peak {memory['pss']:.2f} GB PSS", flush=True)
    return seconds, memory["pss"]


def prepare_project(
    workdir: Path, clips_per_genre: int, unique_per_genre: int, seconds: float, seed: int
) -> tuple[Path, list[Path]]:
    """Make a project copy whose raw layer holds the clips; return it and the clip paths."""
    project = workdir / "project"
    if not project.exists():
        workdir.mkdir(parents=True, exist_ok=True)
        copy_project(PROJECT_ROOT, workdir)
    unique = workdir / "unique"
    wanted = [(genre, index) for genre in GENRES for index in range(unique_per_genre)]
    missing = [(g, i) for g, i in wanted if not (unique / f"{g}.{i:05d}.wav").exists()]
    joblib.Parallel(n_jobs=-1)(
        joblib.delayed(_write_clip)(unique / f"{g}.{i:05d}.wav", g, i, seconds, seed)
        for g, i in missing
    )
    get_reusable_executor().shutdown(wait=True)  # its workers would idle through the runs
    paths = []
    for genre in GENRES:
        for index in range(clips_per_genre):
            path = project / "data" / "01_raw" / "generated" / genre / f"{genre}.{index:05d}.wav"
            if not path.exists():
                path.parent.mkdir(parents=True, exist_ok=True)
                os.link(unique / f"{genre}.{index % unique_per_genre:05d}.wav", path)
            paths.append(path)
    return project, paths


def _write_clip(path: Path, genre: str, index: int, seconds: float, seed: int) -> None:
    """Synthesise one clip and save it as the pipeline's raw_clips dataset would."""
    samples = synthesise_clip(genre, index, seconds=seconds, sample_rate=SAMPLE_RATE, seed=seed)
    AudioDataset(filepath=str(path), sample_rate=SAMPLE_RATE).save(samples)


def run_params(clips_per_genre: int, seconds: float, kind: str = "local") -> list[str]:
    """``--params`` that describe the prepared clips and choose the executor."""
    return [
        "--params",
        f"ingestion.source=generated,ingestion.generator.clips_per_genre={clips_per_genre},"
        f"ingestion.generator.clip_seconds={seconds},"
        f"feature_engineering.executor.kind={kind},feature_engineering.executor.n_jobs=-1",
    ]


def one_process_loop(paths: list[Path], output: Path) -> dict[str, float]:
    """Decode, featurise and save every clip in this process; return seconds per stage."""
    output.mkdir(parents=True, exist_ok=True)
    stages = {"decode": 0.0, "log-mel": 0.0, "save": 0.0}
    with threadpool_limits(limits=1):
        for path in paths:
            started = time.perf_counter()
            samples = AudioDataset(filepath=str(path), sample_rate=SAMPLE_RATE).load()
            decoded = time.perf_counter()
            features = log_mel_spectrogram(samples, LOG_MEL)
            featurised = time.perf_counter()
            NumpyArrayDataset(filepath=str(output / f"{path.stem}.npy")).save(features)
            stages["decode"] += decoded - started
            stages["log-mel"] += featurised - decoded
            stages["save"] += time.perf_counter() - featurised
    shutil.rmtree(output)
    return stages


def interleaved(paths: list[Path], output: Path, block: int = 200) -> tuple[float, float]:
    """Seconds of the loop and of ``map_tracks`` on local workers, alternating by block.

    On a shared machine the load changes by the minute: alternating blocks of the same files
    exposes both sides to the same load. The workers start during the first block (their
    start-up is counted there, once) and stay alive; every result is saved as in the loop.
    """
    output.mkdir(parents=True, exist_ok=True)
    function = functools.partial(_load_log_mel, log_mel=LOG_MEL)
    executor = {"kind": "local", "n_jobs": -1}
    totals = {"loop": 0.0, "workers": 0.0}
    for start in range(0, len(paths), block):
        chunk = paths[start : start + block]
        loaders = {
            p.stem: AudioDataset(filepath=str(p), sample_rate=SAMPLE_RATE).load for p in chunk
        }
        started = time.perf_counter()
        with threadpool_limits(limits=1):
            for track_id, load in loaders.items():
                NumpyArrayDataset(filepath=str(output / f"{track_id}.npy")).save(function(load))
        totals["loop"] += time.perf_counter() - started
        started = time.perf_counter()
        for track_id, features in map_tracks(function, loaders, executor):
            NumpyArrayDataset(filepath=str(output / f"{track_id}.npy")).save(features)
        totals["workers"] += time.perf_counter() - started
    shutil.rmtree(output)
    return totals["loop"], totals["workers"]


def _import_featuriser() -> int:
    """Import what a worker needs to featurise a clip; return the worker's pid."""
    import gtzan_kedro.pipelines.feature_engineering.nodes  # noqa: F401, PLC0415

    return os.getpid()


def worker_start_seconds() -> float:
    """Seconds to start one worker per core and import the featuriser in each."""
    started = time.perf_counter()
    with joblib.parallel_config(backend="loky"):
        pool = get_reusable_executor(max_workers=joblib.cpu_count(), reuse=False)
        pids: set[int] = set()
        while len(pids) < joblib.cpu_count():
            pids.update(f.result() for f in [pool.submit(_import_featuriser) for _ in range(8)])
        seconds = time.perf_counter() - started
        pool.shutdown(wait=True)
    return seconds


def main() -> None:
    """Prepare the clips, run and time every phase, print the report."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clips-per-genre", type=int, default=100)
    parser.add_argument("--unique-per-genre", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--workdir", type=Path, help="keep the project copy here for a rerun")
    args = parser.parse_args()

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="gtzan-benchmark-"))
    started = time.perf_counter()
    project, paths = prepare_project(
        workdir, args.clips_per_genre, args.unique_per_genre, args.seconds, args.seed
    )
    n = len(paths)
    print(f"{n} clips ready after {time.perf_counter() - started:.0f} s.", flush=True)
    params = run_params(args.clips_per_genre, args.seconds)
    kedro_run(project, [*params, "--pipeline", "ingestion"], "ingestion")
    kedro_run(
        project, [*params, "--pipeline", "feature_engineering", "--nodes", "split_tracks"], "split"
    )
    node = ["--pipeline", "feature_engineering", "--nodes", "extract_log_mels"]
    shutil.rmtree(project / FEATURES, ignore_errors=True)
    _, local_pss = kedro_run(project, [*params, *node], "extract_local")
    kedro_run(project, [*params, *node], "extract_cached")
    shutil.rmtree(project / FEATURES, ignore_errors=True)
    dask_params = run_params(args.clips_per_genre, args.seconds, kind="dask")
    _, dask_pss = kedro_run(project, [*dask_params, *node], "extract_dask")
    local, cached, dask = (
        node_seconds(project / "logs" / f"extract_{name}.log")
        for name in ("local", "cached", "dask")
    )
    start_up = worker_start_seconds()
    print(f"  worker start-up: {start_up:.1f} s", flush=True)
    loop_started = time.perf_counter()
    stages = one_process_loop(paths, workdir / "loop_features")
    loop = time.perf_counter() - loop_started
    print(f"  one-process loop: {loop:.1f} s", flush=True)
    alternated_loop, alternated_workers = interleaved(paths, workdir / "interleaved_features")

    wav_gb = sum(path.stat().st_size for path in paths) / 1e9
    print(
        f"\n{n} clips x {args.seconds:.0f} s ({wav_gb:.2f} GB of WAV; "
        f"{10 * args.unique_per_genre} synthesised, the rest hard links), {os.cpu_count()} "
        f"cores, load average {os.getloadavg()[1]:.1f} over the last 5 minutes (shared machine: "
        f"other work competes for the cores)\n"
    )
    rows = [
        ("one-process loop (decode, log-mel, save)", loop, None),
        ("pipeline, local workers (run 1 - run 2)", local - cached, local_pss),
        ("pipeline, dask LocalCluster (run 3 - run 2)", dask - cached, dask_pss),
    ]
    print(f"{'featurisation':<46} {'seconds':>8} {'ms/clip':>8} {'clips/s':>8} {'peak PSS':>9}")
    for name, seconds, pss in rows:
        memory = f"{pss:.2f} GB" if pss is not None else ""
        print(
            f"{name:<46} {seconds:>8.1f} {1000 * seconds / n:>8.1f} {n / seconds:>8.1f} {memory:>9}"
        )
    print(
        f"{'alternating blocks: one-process loop':<46} {alternated_loop:>8.1f} "
        f"{1000 * alternated_loop / n:>8.1f} {n / alternated_loop:>8.1f}"
    )
    print(
        f"{'alternating blocks: map_tracks, local workers':<46} {alternated_workers:>8.1f} "
        f"{1000 * alternated_workers / n:>8.1f} {n / alternated_workers:>8.1f}"
    )
    print(
        f"\nspeed-up, alternating blocks (same load): x{alternated_loop / alternated_workers:.2f}"
    )
    print(f"speed-up of local workers over the loop: x{loop / (local - cached):.2f}")
    print(f"speed-up of dask over the loop: x{loop / (dask - cached):.2f}")
    print(f"the node with every log-mel cached (run 2: listing, fingerprints): {cached:.1f} s")
    print(f"worker start-up (one per core, featuriser imported): {start_up:.1f} s")
    print(
        "one-process loop per clip: "
        + ", ".join(f"{k} {1000 * v / n:.1f} ms" for k, v in stages.items())
    )
    if not args.workdir:
        shutil.rmtree(workdir)


if __name__ == "__main__":
    main()
