"""Track accuracy of the MFCC + SVM baseline against the musicnn transfer models.

For each dataset (the embedded default, 30 clips per genre of 5 s, and a GTZAN-sized
generated one, 100 clips per genre of 30 s), in a fresh project copy whose parameters keep
only the architectures compared (``--architectures``; feature engineering then computes only
the feature sets they read, here ``mfcc_stats`` and ``musicnn``):

1. ``kedro run --pipeline ingestion`` (the clips are synthesised);
2. ``kedro run --pipeline feature_engineering``;
3. ``kedro run --pipeline modelling --namespaces <architectures>``;
4. ``kedro run --pipeline reporting``: the comparison, printed here (track accuracy and macro
   F1 with bootstrap intervals, McNemar tests).

The musicnn wheel is copied from ``data/01_raw/pretrained/`` into each copy when it is
there, so nothing is fetched. Each phase's wall time and peak PSS (run and workers, psutil)
are printed. Run from the project root (about half an hour on 2 cores at full size)::

    .venv/bin/python benchmarks/accuracy_comparison.py
    .venv/bin/python benchmarks/accuracy_comparison.py --datasets default --clips-per-genre 50
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

from full_size_features import (
    PROJECT_ROOT,
    copy_project,
    copy_wheels,
    kedro_run,
    keep_architectures,
)

# name: (clips per genre, seconds per clip); None keeps conf/base's embedded default.
DATASETS = {"default": None, "gtzan_sized": (100, 30.0)}


def prepare_copy(workdir: Path, architectures: list[str]) -> Path:
    """A project copy with the musicnn wheel and only ``architectures`` in its parameters."""
    workdir.mkdir(parents=True, exist_ok=True)
    project = copy_project(PROJECT_ROOT, workdir, architectures=tuple(architectures))
    copy_wheels(project)
    # Reporting compares every declared architecture: the others are left out of the copy.
    keep_architectures(project, architectures)
    return project


def run_dataset(
    workdir: Path, architectures: list[str], size: tuple[int, float] | None
) -> tuple[dict[str, tuple[float, float]], str]:
    """Run the four phases; return each one's seconds and peak PSS, and the comparison."""
    project = prepare_copy(workdir, architectures)
    params = ["--params", "ingestion.source=generated"]
    if size:
        params[1] += (
            f",ingestion.generator.clips_per_genre={size[0]},"
            f"ingestion.generator.clip_seconds={size[1]}"
        )
    phases = {
        "ingestion": ["--pipeline", "ingestion"],
        "feature_engineering": ["--pipeline", "feature_engineering"],
        "modelling": ["--pipeline", "modelling", "--namespaces", ",".join(architectures)],
        "reporting": ["--pipeline", "reporting"],
    }
    results = {name: kedro_run(project, [*params, *args], name) for name, args in phases.items()}
    comparison = (project / "data" / "08_reporting" / "architecture_comparison.md").read_text()
    return results, comparison


def main() -> None:
    """Run every dataset and print the phases and comparisons."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS), choices=DATASETS)
    parser.add_argument(
        "--architectures", nargs="+", default=["svm", "musicnn_probe", "musicnn_mlp"]
    )
    parser.add_argument(
        "--clips-per-genre", type=int, default=100, help="of the GTZAN-sized dataset"
    )
    parser.add_argument("--seconds", type=float, default=30.0, help="of the GTZAN-sized dataset")
    parser.add_argument("--workdir", type=Path, help="keep the project copies here")
    args = parser.parse_args()
    DATASETS["gtzan_sized"] = (args.clips_per_genre, args.seconds)

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="gtzan-accuracy-"))
    for name in args.datasets:
        size = DATASETS[name]
        described = (
            "30 clips/genre x 5 s" if size is None else f"{size[0]} clips/genre x {size[1]:g} s"
        )
        print(f"\n=== {name}: {described} ===", flush=True)
        started = time.perf_counter()
        phases, comparison = run_dataset(workdir / name, args.architectures, size)
        print(
            f"\n{name} ({described}): {time.perf_counter() - started:.0f} s in all, "
            f"{os.cpu_count()} cores, load average {os.getloadavg()[1]:.1f} (5 min; shared)"
        )
        for phase, (seconds, pss) in phases.items():
            print(f"  {phase:<20} {seconds:8.1f} s  peak {pss:.2f} GB PSS")
        print("\n" + comparison, flush=True)
    if not args.workdir:
        shutil.rmtree(workdir)


if __name__ == "__main__":
    main()
