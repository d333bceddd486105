"""Peak memory of ingestion and feature engineering for 1,000 and 10,000 generated clips.

Streaming means the peak does not grow with the collection: each clip is written as soon as
it is generated and each log-mel as soon as it is computed. For each size, in a fresh
project copy with short clips (3 s: one sequence each; ``--unique-per-genre`` synthesised per
genre, the others hard links under their own names, see ``full_size_features.py``):

1. ``kedro run --pipeline ingestion``;
2. ``kedro run --pipeline feature_engineering`` with an empty feature cache: split, log-mels,
   normalisation, windows (the copy keeps one architecture, ``cnn``, so ``log_mel`` is the only
   feature set computed);
3. ``kedro run --pipeline feature_engineering --nodes log_mel.extract_features`` with an empty
   cache: the featurisation alone.

Peak memory is the largest sum of PSS (psutil) over the run's process and its children
(workers), sampled every 0.1 s. Run from the project root (about 15 minutes on 2 cores)::

    .venv/bin/python benchmarks/streaming_memory.py
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
from pathlib import Path

from full_size_features import (
    FEATURES,
    NODE,
    kedro_run,
    keep_architectures,
    node_seconds,
    prepare_project,
    run_params,
)


def measure(workdir: Path, clips: int, unique_per_genre: int, seconds: float) -> dict:
    """Run the three phases on ``clips`` clips; return their times and peaks."""
    project, _ = prepare_project(workdir, clips // 10, unique_per_genre, seconds, seed=42)
    keep_architectures(project, ["cnn"])
    params = run_params(clips // 10, seconds)
    result = {}
    result["ingestion"] = kedro_run(project, [*params, "--pipeline", "ingestion"], "ingestion")
    shutil.rmtree(project / FEATURES, ignore_errors=True)
    fe = ["--pipeline", "feature_engineering"]
    result["feature_engineering"] = kedro_run(project, [*params, *fe], "features")
    result["log-mel node in it"] = (node_seconds(project / "logs" / "features.log"), None)
    shutil.rmtree(project / FEATURES, ignore_errors=True)
    node = [*fe, "--nodes", NODE]
    result["log-mel node alone"] = kedro_run(project, [*params, *node], "extract")
    return result


def main() -> None:
    """Measure both sizes and print the comparison."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--unique-per-genre", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--workdir", type=Path, help="keep the project copies here")
    args = parser.parse_args()

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="gtzan-memory-"))
    results = {}
    for clips in args.sizes:
        print(f"{clips} clips:", flush=True)
        results[clips] = measure(
            workdir / f"clips_{clips}", clips, args.unique_per_genre, args.seconds
        )
    print(
        f"\n{args.seconds:.0f}-s clips, {os.cpu_count()} cores, load average "
        f"{os.getloadavg()[1]:.1f} over the last 5 minutes (shared machine)\n"
    )
    print(f"{'clips':>6} {'phase':<22} {'seconds':>8} {'ms/clip':>8} {'peak PSS':>9}")
    for clips, phases in results.items():
        for phase, (seconds, pss) in phases.items():
            memory = f"{pss:.2f} GB" if pss is not None else ""
            print(
                f"{clips:>6} {phase:<22} {seconds:>8.1f} {1000 * seconds / clips:>8.2f} {memory:>9}"
            )
    if len(results) > 1:
        smallest, largest = min(results), max(results)
        for phase, (_, pss) in results[largest].items():
            if pss is not None:
                ratio = pss / results[smallest][phase][1]
                print(f"peak PSS {largest} / {smallest} clips, {phase}: x{ratio:.2f}")
    if not args.workdir:
        shutil.rmtree(workdir)


if __name__ == "__main__":
    main()
