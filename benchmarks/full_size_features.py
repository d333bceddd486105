"""Featurisation speed: the pipeline's feature extraction against a one-process loop.

For each feature set (``log_mel`` on ``--clips-per-genre`` clips per genre, ``musicnn`` on
``--musicnn-clips-per-genre``: its network makes each clip ~30x dearer), both sides do the same
work per clip (decode, featurise, save one ``.npy``) on the same 30-s files, in the same run,
with BLAS, OpenMP and numba at one thread on both sides (the loop in a child process started
with the executor's one-thread environment, the workers through theirs):

1. ``kedro run --nodes <fs>.extract_features`` with an empty feature cache
   (``executor.kind=local``): worker start-up and the featurisation of every clip;
2. the same command again on the unchanged files: every result is reused, so this is the
   listing and fingerprinting alone; 1 - 2 is what featurisation costs the run, worker
   start-up included;
3. (``log_mel``; ``musicnn`` with ``--dask-musicnn``) as 1 with ``executor.kind=dask``: a
   ``distributed.LocalCluster`` (one process per core, one thread each) started by the run,
   its start-up included;
4. a plain loop in one child process over the same files, timed per stage (decode,
   featurise, save), with its peak memory; for musicnn, TensorFlow's own thread pools are set to
   one thread there too (the loop is one core's work: the speed-up limit is the core count);
5. (``log_mel``) the loop and ``map_tracks`` (the node's executor, local workers) alternating
   by blocks of 200 files in this process: the shared machine's load changes from minute to
   minute, and alternating exposes both sides to the same load (worker start-up counted once).

Only ``--unique-per-genre`` clips per genre are synthesised (the generator is slow); the
others are hard links to them under their own names, so every file is decoded, featurised and
saved on its own, as a real collection's would be (all from the page cache after the first
read). Node times come from the run's log (millisecond timestamps, from the node's first
input load to its completion), so session start-up does not blur them. Peak memory is the
largest sum of PSS (psutil) over the process and its children (workers), sampled every 0.1 s.
The musicnn weights are converted in each copy before anything is timed.

Run from the project root (about 15 minutes on 2 cores)::

    .venv/bin/python benchmarks/full_size_features.py
"""

from __future__ import annotations

import argparse
import datetime
import functools
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import joblib
import numpy as np
import psutil
import yaml
from loky import get_reusable_executor
from threadpoolctl import threadpool_limits

from gtzan_kedro.datasets import AudioDataset, NumpyArrayDataset
from gtzan_kedro.datasets.pretrained import MusicnnWeightsDataset
from gtzan_kedro.features import featurise_clip
from gtzan_kedro.features.executor import ONE_THREAD_ENV, map_tracks
from gtzan_kedro.sources.generator import synthesise_clip
from gtzan_kedro.sources.gtzan_genres import GTZAN_GENRES as GENRES

PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_ROOT))  # for tests.conftest.copy_project
from tests.conftest import copy_project  # noqa: E402

SAMPLE_RATE = 22050
# The log_mel block of conf/base/parameters_feature_engineering.yml.
# The blocks of conf/base/parameters_feature_engineering.yml that the loop computes.
FEATURE_SETS = {
    "log_mel": {"extractor": "log_mel", "params": {"n_fft": 2048, "hop_length": 512, "n_mels": 64}},
    "musicnn": {"extractor": "musicnn", "params": {"layers": ["max_pool", "mean_pool"]}},
}
# An architecture that reads each feature set: a copy keeps only it.
READER = {"log_mel": "cnn", "musicnn": "musicnn_probe"}
FEATURES = Path("data") / "04_feature" / "log_mel"
NODE = "log_mel.extract_features"


def tree_memory_bytes(root: int) -> int:
    """Return the summed PSS of process ``root`` and all its descendants (psutil)."""
    try:
        processes = [psutil.Process(root)]
        processes += processes[0].children(recursive=True)
    except psutil.Error:
        return 0  # the run ended while we looked
    total = 0
    for process in processes:
        try:
            total += process.memory_full_info().pss
        except psutil.Error:
            pass  # the process ended while we looked
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


def node_seconds(log: Path, node: str = NODE) -> float:
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
        # The project may be a temporary folder, gone once this exits: the log's end here.
        tail = "\n".join(log.read_text().splitlines()[-40:])
        raise SystemExit(f"{' '.join(command)} failed; the end of {log}:\n{tail}")
    print(f"  {log_name}: {seconds:.1f} s, peak {memory['pss']:.2f} GB PSS", flush=True)
    return seconds, memory["pss"]


def keep_architectures(project: Path, names: list[str]) -> None:
    """Keep only ``names`` in a copy's architectures: its runs compute only their features."""
    parameters = project / "conf" / "base" / "parameters_modelling.yml"
    config = yaml.safe_load(parameters.read_text())
    blocks = config["modelling"]["architectures"]
    config["modelling"]["architectures"] = {name: blocks[name] for name in names}
    parameters.write_text(yaml.safe_dump(config, sort_keys=False))
    # Every run checks that the comparison's baseline is one of the architectures.
    reporting = project / "conf" / "base" / "parameters_reporting.yml"
    config = yaml.safe_load(reporting.read_text())
    if config["reporting"]["baseline"] not in names:
        config["reporting"]["baseline"] = names[0]
        reporting.write_text(yaml.safe_dump(config, sort_keys=False))


def copy_wheels(project: Path) -> None:
    """Copy the cached musicnn wheel into a copy's raw layer, so that nothing is fetched."""
    for wheel in (PROJECT_ROOT / "data" / "01_raw" / "pretrained").glob("*.whl"):
        target = project / "data" / "01_raw" / "pretrained" / wheel.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(wheel, target)


def musicnn_weights(project: Path) -> Path:
    """Convert (or find) the copy's MSD_musicnn weights, as the catalog entry does."""
    return MusicnnWeightsDataset(
        model="MSD_musicnn",
        weights_dir=str(project / "data" / "06_models" / "pretrained" / "musicnn"),
        wheel_cache=str(project / "data" / "01_raw" / "pretrained"),
    ).load()


def prepare_project(  # noqa: PLR0913, PLR0917
    workdir: Path,
    clips_per_genre: int,
    unique_per_genre: int,
    seconds: float,
    seed: int,
    unique: Path | None = None,
) -> tuple[Path, list[Path]]:
    """Make a project copy whose raw layer holds the clips; return it and the clip paths."""
    project = workdir / "project"
    if not project.exists():
        workdir.mkdir(parents=True, exist_ok=True)
        copy_project(PROJECT_ROOT, workdir, architectures=tuple(READER.values()))
        copy_wheels(project)
    unique = unique or workdir / "unique"
    wanted = [(genre, index) for genre in GENRES for index in range(unique_per_genre)]
    missing = [(g, i) for g, i in wanted if not (unique / f"{g}.{i:05d}.wav").exists()]
    if missing:
        joblib.Parallel(n_jobs=-1)(
            joblib.delayed(_write_clip)(unique / f"{g}.{i:05d}.wav", g, i, seconds, seed)
            for g, i in missing
        )
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


def featuriser(feature_set: str, weights: Path | None) -> Callable[[Callable], np.ndarray]:
    """The node's per-track function for ``feature_set`` (decode, then featurise)."""
    return functools.partial(
        featurise_clip,
        sample_rate=SAMPLE_RATE,
        feature_set=FEATURE_SETS[feature_set],
        inputs={"weights": str(weights)} if weights else {},
    )


def one_process_loop(
    feature_set: str, paths: list[Path], output: Path, weights: Path | None
) -> dict[str, float]:
    """Decode, featurise and save every clip in this process; return seconds per stage."""
    if weights:
        import tensorflow as tf  # noqa: PLC0415 - only the musicnn loop needs it

        # One core's work, like each local worker's: TensorFlow's pools at one thread.
        tf.config.threading.set_intra_op_parallelism_threads(1)
        tf.config.threading.set_inter_op_parallelism_threads(1)
    function = featuriser(feature_set, weights)
    output.mkdir(parents=True, exist_ok=True)
    stages = {"decode": 0.0, feature_set: 0.0, "save": 0.0}
    with threadpool_limits(limits=1):
        for path in paths:
            started = time.perf_counter()
            samples = AudioDataset(filepath=str(path), sample_rate=SAMPLE_RATE).load()
            decoded = time.perf_counter()
            features = function(lambda samples=samples: samples)
            featurised = time.perf_counter()
            NumpyArrayDataset(filepath=str(output / f"{path.stem}.npy")).save(features)
            stages["decode"] += decoded - started
            stages[feature_set] += featurised - decoded
            stages["save"] += time.perf_counter() - featurised
    shutil.rmtree(output)
    return stages


def loop_in_child(
    feature_set: str, paths: list[Path], output: Path, weights: Path | None
) -> tuple[float, float, dict[str, float]]:
    """Run :func:`one_process_loop` in a child with one-thread BLAS; seconds, peak GB, stages."""
    listing = output.with_suffix(".json")
    listing.write_text(json.dumps([str(path) for path in paths]))
    command = [
        sys.executable,
        __file__,
        "--loop-child",
        feature_set,
        str(listing),
        str(output),
        str(weights or ""),
    ]
    environment = {**os.environ, **ONE_THREAD_ENV}
    started = time.perf_counter()
    process = subprocess.Popen(command, env=environment, stdout=subprocess.PIPE, text=True)
    with peak_memory(process.pid) as memory:
        stdout, _ = process.communicate()
    if process.returncode:
        raise SystemExit(f"the one-process loop failed: {' '.join(command)}")
    stages = json.loads(stdout.splitlines()[-1])
    # The loop's own time (its first clip builds the network, as a worker's does), not the
    # child's interpreter start-up.
    seconds = sum(stages.values())
    print(
        f"  one-process loop, {feature_set}: {seconds:.1f} s "
        f"({time.perf_counter() - started:.1f} s with the child's start-up)",
        flush=True,
    )
    return seconds, memory["pss"], stages


def interleaved(paths: list[Path], output: Path, block: int = 200) -> tuple[float, float]:
    """Seconds of the loop and of ``map_tracks`` on local workers, alternating by block.

    On a shared machine the load changes by the minute: alternating blocks of the same files
    exposes both sides to the same load. The workers start during the first block (their
    start-up is counted there, once) and stay alive; every result is saved as in the loop.
    """
    output.mkdir(parents=True, exist_ok=True)
    function = featuriser("log_mel", None)
    executor = {"kind": "local", "n_jobs": -1}
    totals = {"loop": 0.0, "workers": 0.0}
    # librosa's first call compiles and caches (numba): once, untimed, for both sides.
    function(AudioDataset(filepath=str(paths[0]), sample_rate=SAMPLE_RATE).load)
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
    import gtzan_kedro.features  # noqa: F401, PLC0415

    return os.getpid()


def worker_start_seconds() -> float:
    """Seconds to start one worker per core and import the featuriser in each."""
    started = time.perf_counter()
    pool = get_reusable_executor(max_workers=joblib.cpu_count(), reuse=False)
    pids: set[int] = set()
    while len(pids) < joblib.cpu_count():
        pids.update(f.result() for f in [pool.submit(_import_featuriser) for _ in range(8)])
    seconds = time.perf_counter() - started
    pool.shutdown(wait=True)
    return seconds


def measure_feature_set(  # noqa: PLR0913, PLR0917
    feature_set: str,
    workdir: Path,
    clips_per_genre: int,
    args: argparse.Namespace,
    unique: Path,
    dask: bool,
) -> dict[str, object]:
    """Time the node (local, cached, dask) and the loop for one feature set."""
    project, paths = prepare_project(
        workdir, clips_per_genre, args.unique_per_genre, args.seconds, args.seed, unique
    )
    # One architecture reading the feature set: the runs compute no other feature set.
    keep_architectures(project, [READER[feature_set]])
    weights = musicnn_weights(project) if feature_set == "musicnn" else None
    params = run_params(clips_per_genre, args.seconds)
    print(f"{feature_set}: {len(paths)} clips", flush=True)
    kedro_run(project, [*params, "--pipeline", "ingestion"], f"{feature_set}_ingestion")
    split = ["--pipeline", "feature_engineering", "--nodes", "split_tracks"]
    kedro_run(project, [*params, *split], f"{feature_set}_split")
    node = f"{feature_set}.extract_features"
    selection = ["--pipeline", "feature_engineering", "--nodes", node]
    features = project / "data" / "04_feature" / feature_set
    runs = {"local": params, "cached": params}
    if dask:
        runs["dask"] = run_params(clips_per_genre, args.seconds, kind="dask")
    result: dict[str, object] = {"clips": len(paths)}
    for name, run in runs.items():
        if name != "cached":
            shutil.rmtree(features, ignore_errors=True)
        _, pss = kedro_run(project, [*run, *selection], f"{feature_set}_extract_{name}")
        seconds = node_seconds(project / "logs" / f"{feature_set}_extract_{name}.log", node)
        result[name] = (seconds, pss)
    result["loop"] = loop_in_child(feature_set, paths, workdir / "loop_features", weights)
    if feature_set == "log_mel":
        result["interleaved"] = interleaved(paths, workdir / "interleaved_features")
    return result


def print_report(results: dict[str, dict], args: argparse.Namespace, start_up: float) -> None:
    """Print one table of all sides, then the speed-ups."""
    print(
        f"\n{args.seconds:.0f}-s clips ({10 * args.unique_per_genre} synthesised, the rest hard "
        f"links), {os.cpu_count()} cores, load average {os.getloadavg()[1]:.1f} over the last 5 "
        "minutes (shared machine: other work competes for the cores)\n"
    )
    print(
        f"{'feature set':<9} {'side':<46} {'clips':>6} {'seconds':>8} {'ms/clip':>8} "
        f"{'clips/s':>8} {'peak PSS':>9}"
    )
    for feature_set, result in results.items():
        n, cached = result["clips"], result["cached"][0]
        loop_seconds, loop_pss, _ = result["loop"]
        rows = [("one-process loop (decode, featurise, save)", loop_seconds, loop_pss)]
        rows.append(
            (
                "pipeline, local workers (run 1 - run 2)",
                result["local"][0] - cached,
                result["local"][1],
            )
        )
        if "dask" in result:
            rows.append(
                (
                    "pipeline, dask LocalCluster (run 3 - run 2)",
                    result["dask"][0] - cached,
                    result["dask"][1],
                )
            )
        if "interleaved" in result:
            rows.append(("alternating blocks: one-process loop", result["interleaved"][0], None))
            rows.append(
                ("alternating blocks: map_tracks, local workers", result["interleaved"][1], None)
            )
        for name, seconds, pss in rows:
            memory = f"{pss:.2f} GB" if pss is not None else ""
            print(
                f"{feature_set:<9} {name:<46} {n:>6} {seconds:>8.1f} {1000 * seconds / n:>8.1f} "
                f"{n / seconds:>8.2f} {memory:>9}"
            )
    print()
    for feature_set, result in results.items():
        n, cached = result["clips"], result["cached"][0]
        loop_seconds, _, stages = result["loop"]
        print(
            f"{feature_set}: speed-up of local workers over the loop: "
            f"x{loop_seconds / (result['local'][0] - cached):.2f}"
        )
        if "dask" in result:
            print(
                f"{feature_set}: speed-up of dask over the loop: "
                f"x{loop_seconds / (result['dask'][0] - cached):.2f}"
            )
        if "interleaved" in result:
            loop, workers = result["interleaved"]
            print(f"{feature_set}: speed-up, alternating blocks (same load): x{loop / workers:.2f}")
        print(
            f"{feature_set}: node with every result cached (run 2: listing, fingerprints): "
            f"{cached:.1f} s"
        )
        print(
            f"{feature_set}: one-process loop per clip: "
            + ", ".join(f"{k} {1000 * v / n:.1f} ms" for k, v in stages.items())
        )
    print(f"worker start-up (one per core, featuriser imported): {start_up:.1f} s")


def loop_child(feature_set: str, listing: str, output: str, weights: str) -> None:
    """The child's side of :func:`loop_in_child`: run the loop, print its stages as JSON."""
    paths = [Path(path) for path in json.loads(Path(listing).read_text())]
    stages = one_process_loop(feature_set, paths, Path(output), Path(weights) if weights else None)
    print(json.dumps(stages))


def main() -> None:
    """Prepare the clips, run and time every phase, print the report."""
    if sys.argv[1:2] == ["--loop-child"]:
        loop_child(*sys.argv[2:6])
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clips-per-genre", type=int, default=100)
    parser.add_argument("--musicnn-clips-per-genre", type=int, default=10)
    parser.add_argument(
        "--feature-sets", nargs="+", default=["log_mel", "musicnn"], choices=FEATURE_SETS
    )
    parser.add_argument(
        "--dask-musicnn",
        action="store_true",
        help="also time musicnn on a LocalCluster (a model build per worker)",
    )
    parser.add_argument("--unique-per-genre", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--workdir", type=Path, help="keep the project copies here for a rerun")
    args = parser.parse_args()

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="gtzan-benchmark-"))
    sizes = {"log_mel": args.clips_per_genre, "musicnn": args.musicnn_clips_per_genre}
    results = {
        feature_set: measure_feature_set(
            feature_set,
            workdir / feature_set,
            sizes[feature_set],
            args,
            workdir / "unique",
            dask=feature_set == "log_mel" or args.dask_musicnn,
        )
        for feature_set in args.feature_sets
    }
    start_up = worker_start_seconds()
    print_report(results, args, start_up)
    if not args.workdir:
        shutil.rmtree(workdir)


if __name__ == "__main__":
    main()
