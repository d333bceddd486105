"""Time `ingestion` + `feature_engineering` on a GTZAN-sized dataset, with peak memory.

Generates 100 clips of 30 s per genre with the embedded generator (1000 clips, about 1.3 GB of
WAV, like GTZAN) into a temporary copy of the project, then runs the pipelines there with
`kedro run --env gtzan` (a real KedroSession in a fresh process, full-size settings, the
generated source):

1. ``ingestion``;
2. ``feature_engineering`` from scratch (every track decoded and featurised in parallel);
3. ``feature_engineering`` again on the unchanged files (log-mels reused from the cache);
4. a plain one-process librosa loop (load, mel spectrogram, dB) over the same files.

The pipeline's featurisation time is run 2 minus run 3 (the same pipeline without decoding
and featurising), which cancels session start-up and the nodes both runs share; it is set
against loop 4. Peak memory of a run is the largest sum over the `kedro run` process and its
children (the joblib workers), sampled every 0.1 s: of resident memory (RSS, counting shared
pages once per process) and of proportional memory (PSS, shared pages split between the
processes: what the run really occupies). ``ru_maxrss`` of the largest finished child is
printed too.

Run from the project root (about 15 minutes on 2 cores; ``--clips-per-genre 5 --seconds 5``
for a quick check)::

    .venv/bin/python benchmarks/full_size_features.py
"""

from __future__ import annotations

import argparse
import os
import resource
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
import librosa
import numpy as np
from joblib.externals.loky import get_reusable_executor

from gtzan_kedro.datasets import AudioDataset
from gtzan_kedro.sources.generator import generated_clips

PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_ROOT))  # for tests.conftest.copy_project
from tests.conftest import copy_project  # noqa: E402

SAMPLE_RATE = 22050


def tree_memory_bytes(root: int) -> tuple[int, int]:
    """Return the summed RSS and PSS of process ``root`` and all its descendants (Linux)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    parent = int(stat.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue  # the process ended while we looked
            children.setdefault(parent, []).append(int(entry))
    totals, stack = {"Rss:": 0, "Pss:": 0}, [root]
    while stack:
        pid = stack.pop()
        try:
            with open(f"/proc/{pid}/smaps_rollup") as rollup:
                for line in rollup:
                    if line[:4] in totals:
                        totals[line[:4]] += int(line.split()[1]) * 1024
        except (OSError, IndexError, ValueError):
            pass  # the process ended while we looked
        stack.extend(children.get(pid, []))
    return totals["Rss:"], totals["Pss:"]


@contextmanager
def peak_memory(process: subprocess.Popen) -> Iterator[dict[str, float]]:
    """Sample the memory of ``process`` and its children until it ends; yield peaks in GB."""
    result = {"rss": 0.0, "pss": 0.0}
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            rss, pss = tree_memory_bytes(process.pid)
            result["rss"] = max(result["rss"], rss / 1e9)
            result["pss"] = max(result["pss"], pss / 1e9)
            done.wait(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        yield result
    finally:
        done.set()
        sampler.join()


def timed(phase: str, rows: list[tuple], action: Callable[[], object], clips: int) -> float:
    """Run ``action`` in this process, record its time under ``phase`` and return it."""
    started = time.perf_counter()
    action()
    seconds = time.perf_counter() - started
    rows.append((phase, seconds, clips / seconds, None, None))
    print(f"{phase}: {seconds:.1f} s", flush=True)
    return seconds


def kedro_run(phase: str, rows: list[tuple], project: Path, args: list[str], clips: int) -> float:
    """Time ``kedro run --env gtzan <args>`` in ``project`` with its peak memory."""
    command = [sys.executable, "-m", "kedro", "run", "--env", "gtzan", *args]
    log = project / "logs" / f"run-{len(rows)}.log"
    log.parent.mkdir(exist_ok=True)
    environment = {**os.environ, "KEDRO_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "1"}
    started = time.perf_counter()
    with log.open("w") as output:
        process = subprocess.Popen(
            command, cwd=project, env=environment, stdout=output, stderr=subprocess.STDOUT
        )
        with peak_memory(process) as memory:
            process.wait()
    seconds = time.perf_counter() - started
    if process.returncode:
        raise SystemExit(f"{' '.join(command)} failed; see {log}")
    rows.append((phase, seconds, clips / seconds, memory["rss"], memory["pss"]))
    print(f"{phase}: {seconds:.1f} s, peak {memory['pss']:.2f} GB PSS", flush=True)
    return seconds


def generate(project: Path, clips_per_genre: int, seconds: float, seed: int) -> list[Path]:
    """Write the generated clips into the raw layer in parallel; return their paths."""
    raw = project / "data" / "01_raw" / "generated"
    clips = generated_clips(
        clips_per_genre=clips_per_genre, clip_seconds=seconds, sample_rate=SAMPLE_RATE, seed=seed
    )
    missing = {name: clip for name, clip in clips.items() if not (raw / name).exists()}
    joblib.Parallel(n_jobs=-1)(
        joblib.delayed(_write_clip)(raw / name, clip) for name, clip in missing.items()
    )
    get_reusable_executor().shutdown(wait=True)  # its workers would idle through the runs
    return sorted(raw / name for name in clips)


def _write_clip(path: Path, clip: Callable[[], np.ndarray]) -> None:
    """Synthesise one clip and save it as the pipeline's raw_clips dataset would."""
    AudioDataset(filepath=str(path), sample_rate=SAMPLE_RATE).save(clip())


def librosa_loop(paths: list[Path], log_mel: dict) -> None:
    """Featurise every file in this process only: the plain loop parallelism is set against."""
    for path in paths:
        samples, _ = librosa.load(path, sr=log_mel["sample_rate"])
        mel = librosa.feature.melspectrogram(
            y=samples,
            sr=log_mel["sample_rate"],
            n_fft=log_mel["n_fft"],
            hop_length=log_mel["hop_length"],
            n_mels=log_mel["n_mels"],
        )
        librosa.power_to_db(mel, ref=1.0, amin=1e-10, top_db=None)


def main() -> None:
    """Generate the dataset, run and time every phase, print the report."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clips-per-genre", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--workdir", type=Path, help="keep the project copy (and its clips) here for a rerun"
    )
    args = parser.parse_args()

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="gtzan-benchmark-"))
    project = workdir / "project"
    if not project.exists():
        workdir.mkdir(parents=True, exist_ok=True)
        copy_project(PROJECT_ROOT, workdir)
    params = (
        "ingestion.source=generated,"
        f"ingestion.generator.clips_per_genre={args.clips_per_genre},"
        f"ingestion.generator.clip_seconds={args.seconds}"
    )
    log_mel = {"sample_rate": SAMPLE_RATE, "n_fft": 2048, "hop_length": 512, "n_mels": 64}
    n_clips = 10 * args.clips_per_genre
    rows: list[tuple] = []
    started = time.perf_counter()
    paths = generate(project, args.clips_per_genre, args.seconds, args.seed)
    print(f"Clips ready after {time.perf_counter() - started:.0f} s (generated where missing).")
    shutil.rmtree(project / "data" / "04_feature" / "log_mel_spectrograms", ignore_errors=True)
    pipeline = ["--params", params, "--pipeline"]
    kedro_run("ingestion", rows, project, [*pipeline, "ingestion"], n_clips)
    features = [*pipeline, "feature_engineering"]
    cold = kedro_run("feature_engineering, no cache", rows, project, features, n_clips)
    cached = kedro_run("feature_engineering, cached log-mels", rows, project, features, n_clips)
    single = timed(
        "plain librosa loop, one process", rows, lambda: librosa_loop(paths, log_mel), n_clips
    )

    wav_gb = sum(path.stat().st_size for path in paths) / 1e9
    print(
        f"\n{n_clips} clips x {args.seconds:.0f} s ({wav_gb:.2f} GB WAV), "
        f"{os.cpu_count()} cores, load average {os.getloadavg()[1]:.1f} over the last 5 minutes "
        f"(other work competing for the cores), project copy in {workdir}\n"
    )
    print(f"{'phase':<40} {'seconds':>8} {'clips/s':>8} {'peak GB RSS / PSS':>18}")
    for phase, seconds, rate, rss, pss in rows:
        memory = f"{rss:.2f} / {pss:.2f}" if rss is not None else ""
        print(f"{phase:<40} {seconds:>8.1f} {rate:>8.1f} {memory:>18}")
    featurise = cold - cached
    print(
        f"{'featurisation in the pipeline (2 - 3)':<40} {featurise:>8.1f} {n_clips / featurise:>8.1f}"
    )
    print(f"\nparallel featurisation vs one-process loop: x{single / featurise:.2f}")
    print(f"cached rerun vs first run of feature_engineering: x{cold / cached:.2f} faster")
    child_gb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1e6
    print(f"ru_maxrss of the largest finished child process: {child_gb:.2f} GB")
    if not args.workdir:
        shutil.rmtree(workdir)


if __name__ == "__main__":
    main()
