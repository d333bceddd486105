"""Out-of-fold track accuracy and training time per architecture, before and after a change.

For each dataset (the embedded default, 30 clips per genre of 5 s, and a GTZAN-sized
generated one, 100 clips per genre of 30 s by default), in a fresh project copy whose
parameters keep only the architectures compared (``--architectures``, blocks of conf/base or
of an environment such as ``conf/transfer``; ``<block>__<feature set>`` is a block on another
feature set; feature engineering then computes only the feature sets they read):

1. ``kedro run --pipeline ingestion`` (the clips are synthesised);
2. ``kedro run --pipeline feature_engineering`` with ``--split`` (default ``kfold``, 5 folds:
   every track is predicted once, by a model that never saw it);
3. per variant (``--variant NAME=key=value,key=value``; ``before=`` runs the configuration as
   it is; ``NAME:gru+lstm=...`` trains those architectures only):
   ``kedro run --pipeline modelling --namespaces <architectures>`` with the variant's
   ``--params``, and from its outputs, per architecture, the track accuracy over all
   out-of-fold predictions with its 95% bootstrap interval, the seconds spent in its
   ``train_model`` nodes (summed over folds, from the run's timestamped log) and, from the
   second variant on, the exact McNemar p-value that it is as accurate as in the first
   variant that trained it (paired, on the same tracks). Each variant's predictions are kept
   in ``<workdir>/<dataset>/predictions/<variant>/<architecture>.parquet``.

The musicnn wheel is copied from ``data/01_raw/pretrained/`` into each copy, so nothing is
fetched. Run from the project root; the machine's load average is printed (timings on a
shared machine are upper bounds)::

    .venv/bin/python benchmarks/accuracy_comparison.py --datasets default \\
        --architectures svm gru cnn --variant before= \\
        --variant smoothing=modelling.training.label_smoothing=0.1
    .venv/bin/python benchmarks/accuracy_comparison.py --datasets default \\
        --architectures gru_musicnn mlp_musicnn --variant before=
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

import pandas as pd
import yaml
from full_size_features import PROJECT_ROOT, copy_project, copy_wheels, kedro_run

from gtzan_kedro.evaluation.statistics import mcnemar_exact

# name: (clips per genre, seconds per clip); None keeps conf/base's embedded default.
DATASETS = {"default": None, "gtzan_sized": (100, 30.0)}
CLOCK = "%H:%M:%S.%f"


def declared_blocks() -> dict[str, dict]:
    """Every architecture block of conf/base and of the other environments, by name."""
    blocks = {}
    for path in sorted((PROJECT_ROOT / "conf").glob("*/parameters*.yml")):
        parameters = yaml.safe_load(path.read_text()) or {}
        blocks |= parameters.get("modelling", {}).get("architectures", {})
    return blocks


def block_of(name: str, blocks: dict[str, dict]) -> dict:
    """The block ``name``; ``<block>__<feature set>`` is that block on another feature set."""
    block, _, features = name.partition("__")
    return blocks[block] | ({"features": features} if features else {})


def prepare_copy(workdir: Path, architectures: list[str]) -> Path:
    """A project copy with the musicnn wheel and only ``architectures`` in its base parameters.

    A copy already in ``workdir`` is reused with its data: clips and features whose
    fingerprints hold are not computed again.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    project = workdir / "project"
    if not project.exists():
        copy_project(PROJECT_ROOT, workdir, architectures=("svm",))
        copy_wheels(project)
    blocks = declared_blocks()
    modelling = project / "conf" / "base" / "parameters_modelling.yml"
    parameters = yaml.safe_load(modelling.read_text())
    parameters["modelling"]["architectures"] = {
        name: block_of(name, blocks) for name in architectures
    }
    modelling.write_text(yaml.safe_dump(parameters, sort_keys=False))
    reporting = project / "conf" / "base" / "parameters_reporting.yml"
    config = yaml.safe_load(reporting.read_text())
    config["reporting"]["baseline"] = architectures[0]
    reporting.write_text(yaml.safe_dump(config, sort_keys=False))
    return project


def train_seconds(log: Path, architectures: list[str]) -> dict[str, float]:
    """Seconds of each architecture's ``train_model`` nodes (all folds), from a run's log."""
    seconds = dict.fromkeys(architectures, 0.0)
    started = None
    for line in log.read_text().splitlines():
        clock = line.split(" ", 1)[0]
        if "Loading data from" in line and started is None:
            started = datetime.datetime.strptime(clock, CLOCK)
        elif "Completed node: " in line:
            node = line.rstrip().rsplit("Completed node: ", 1)[1]
            namespace = node.split(".", 1)[0]
            if node.endswith(".train_model") and namespace in seconds and started:
                ended = datetime.datetime.strptime(clock, CLOCK)
                seconds[namespace] += (ended - started).total_seconds()
            started = None  # the next load belongs to the next node
    return seconds


def run_dataset(
    workdir: Path,
    architectures: list[str],
    size: tuple[int, float] | None,
    split: list[str],
    variants: dict[str, str],
) -> list[dict]:
    """Featurise once, then train and score every variant; return one row per result."""
    project = prepare_copy(workdir, architectures)
    base = "ingestion.source=generated," + ",".join(split)
    if size:
        base += (
            f",ingestion.generator.clips_per_genre={size[0]},"
            f"ingestion.generator.clip_seconds={size[1]}"
        )
    kedro_run(project, ["--pipeline", "ingestion", "--params", base], "ingestion")
    kedro_run(project, ["--pipeline", "feature_engineering", "--params", base], "features")
    rows, first = [], {}
    for spec, overrides in variants.items():
        variant, _, only = spec.partition(":")
        trained = only.split("+") if only else architectures
        params = f"{base},{overrides}" if overrides else base
        args = ["--pipeline", "modelling", "--namespaces", ",".join(trained)]
        kedro_run(project, [*args, "--params", params], f"modelling-{variant}")
        seconds = train_seconds(project / "logs" / f"modelling-{variant}.log", trained)
        for name in trained:
            metrics = json.loads(
                (project / "data" / "08_reporting" / name / "metrics.json").read_text()
            )
            predictions = keep_predictions(project, name, workdir / "predictions" / variant)
            row = {"variant": variant, "architecture": name, "seconds": seconds[name]} | metrics
            if name in first:
                row["p_value"] = paired_p_value(first[name], predictions)
            else:
                first[name] = predictions
            print(table([row]).splitlines()[-1], flush=True)
            rows.append(row)
    return rows


def keep_predictions(project: Path, architecture: str, folder: Path) -> pd.DataFrame:
    """Copy the architecture's out-of-fold track predictions into ``folder``; return them."""
    # The next variant's run overwrites the project's copy.
    folder.mkdir(parents=True, exist_ok=True)
    source = project / "data" / "07_model_output" / architecture / "track_predictions.parquet"
    shutil.copy(source, folder / f"{architecture}.parquet")
    return pd.read_parquet(source, columns=["track_id", "label", "predicted"])


def paired_p_value(first: pd.DataFrame, other: pd.DataFrame) -> float:
    """Exact McNemar p-value that two variants are equally accurate on the same tracks."""
    paired = first.merge(other, on=["track_id", "label"], suffixes=("_first", "_other"))
    return mcnemar_exact(paired["label"], paired["predicted_first"], paired["predicted_other"])


def table(rows: list[dict]) -> str:
    """The results as a Markdown table."""
    lines = [
        "| variant | architecture | out-of-fold track accuracy [95% CI] | train s "
        "| McNemar p vs the first variant |",
        "| --- | --- | --- | ---: | ---: |",
    ]
    for row in rows:
        p_value = f"{row['p_value']:.3g}" if "p_value" in row else ""
        lines.append(
            f"| {row['variant']} | {row['architecture']} | {row['track_accuracy']:.3f} "
            f"[{row['track_accuracy_ci_low']:.3f}, {row['track_accuracy_ci_high']:.3f}] "
            f"| {row['seconds']:.0f} | {p_value} |"
        )
    return "\n".join(lines)


def main() -> None:
    """Run every dataset and variant and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS), choices=DATASETS)
    parser.add_argument(
        "--architectures", nargs="+", default=["svm", "musicnn_probe", "musicnn_mlp"]
    )
    parser.add_argument(
        "--split",
        nargs="+",
        default=["feature_engineering.split.strategy=kfold", "feature_engineering.split.folds=5"],
        help="parameters of the split (key=value)",
    )
    parser.add_argument(
        "--variant",
        action="append",
        help="NAME[:arch+arch]=key=value,...: parameters of one modelling run (repeatable), "
        "optionally of some of the architectures only",
    )
    parser.add_argument(
        "--clips-per-genre", type=int, default=100, help="of the GTZAN-sized dataset"
    )
    parser.add_argument("--seconds", type=float, default=30.0, help="of the GTZAN-sized dataset")
    parser.add_argument("--workdir", type=Path, help="keep the project copies here")
    args = parser.parse_args()
    DATASETS["gtzan_sized"] = (args.clips_per_genre, args.seconds)
    variants = dict(variant.split("=", 1) for variant in args.variant or ["before="])

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="gtzan-accuracy-"))
    for name in args.datasets:
        size = DATASETS[name]
        described = (
            "30 clips/genre x 5 s" if size is None else f"{size[0]} clips/genre x {size[1]:g} s"
        )
        print(f"\n=== {name}: {described}, {' '.join(args.split)} ===", flush=True)
        started = time.perf_counter()
        rows = run_dataset(workdir / name, args.architectures, size, args.split, variants)
        print(
            f"\n{name} ({described}): {time.perf_counter() - started:.0f} s in all, "
            f"{os.cpu_count()} cores, load average {os.getloadavg()[1]:.1f} (5 min; shared)"
        )
        print("\n" + table(rows), flush=True)
    if not args.workdir:
        shutil.rmtree(workdir)


if __name__ == "__main__":
    main()
