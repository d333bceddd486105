"""Calibration before and after temperature scaling, and the time a refit adds.

In a fresh project copy of the embedded dataset (``--clips-per-genre``/``--clip-seconds``
shrink it) with only ``--architectures`` declared:

1. ``kedro run`` of ingestion, feature engineering and modelling on the holdout split; then,
   for each architecture, its test tracks' probabilities from its model artefact with its
   fitted temperature and with temperature 1 (what it would say uncalibrated): track
   accuracy, ECE and Brier score of both, printed as one table;
2. with ``--kfold K``: feature engineering and modelling on a K-fold split, then
   ``kedro run --pipeline reporting`` with ``reporting.refit=false`` and with the refit; each
   reporting run's wall time and the refit node's own seconds (from its log) are printed.

Run from the project root; the machine's load changes the times::

    .venv/bin/python benchmarks/calibration.py --architectures svm mlp cnn --kfold 5
"""

from __future__ import annotations

import argparse
import dataclasses
import re
import tempfile
from pathlib import Path

import pandas as pd
from full_size_features import (
    PROJECT_ROOT,
    copy_project,
    copy_wheels,
    kedro_run,
    keep_architectures,
)
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project

from gtzan_kedro.evaluation.calibration import (
    brier_score,
    class_probabilities,
    expected_calibration_error,
)
from gtzan_kedro.pipelines.modelling.nodes import predict_test_tracks

REFIT_LINE = re.compile(r"Trained '(\w+)' again on all tracks .* in ([\d.]+) s")


def scores(predictions: pd.DataFrame) -> dict[str, float]:
    """Track accuracy, ECE and Brier score of a predictions table."""
    probabilities = class_probabilities(predictions)
    return {
        "accuracy": float((predictions["label"] == predictions["predicted"]).mean()),
        "ece": expected_calibration_error(predictions["label"], probabilities),
        "brier": brier_score(predictions["label"], probabilities),
    }


def before_and_after(project: Path, architectures: list[str], params: dict) -> pd.DataFrame:
    """Each architecture's test scores with temperature 1 and with its fitted temperature."""
    bootstrap_project(project)
    rows = []
    with KedroSession.create(project_path=project, runtime_params=params) as session:
        context = session.load_context()
        catalog = context.catalog
        splits = catalog.load("track_splits")
        blocks = context.params["modelling"]["architectures"]
        for name in architectures:
            classifier = catalog.load(f"{name}.genre_classifier")
            features = catalog.load(f"{blocks[name]['features']}.track_features")
            plain = dataclasses.replace(classifier, temperature=1.0)
            before = scores(predict_test_tracks(plain, features, splits))
            after = scores(predict_test_tracks(classifier, features, splits))
            rows.append(
                {
                    "architecture": name,
                    "temperature": classifier.temperature,
                    **{f"{key}_before": value for key, value in before.items()},
                    **{f"{key}_after": value for key, value in after.items()},
                }
            )
    return pd.DataFrame(rows).round(4)


def main() -> None:
    """Run the holdout comparison, then (with --kfold) the reporting runs with and without refit."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--architectures", nargs="+", default=["svm", "mlp", "cnn"])
    parser.add_argument("--clips-per-genre", type=int, default=None)
    parser.add_argument("--clip-seconds", type=float, default=None)
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--kfold", type=int, default=0, help="folds of the refit timing (0: none)")
    arguments = parser.parse_args()

    size = {
        "ingestion.generator.clips_per_genre": arguments.clips_per_genre,
        "ingestion.generator.clip_seconds": arguments.clip_seconds,
        "modelling.training.epochs": arguments.epochs,
        "feature_engineering.executor.n_jobs": 2,
    }
    size = {key: value for key, value in size.items() if value is not None}
    options = ",".join(f"{key}={value}" for key, value in size.items())
    nested: dict = {}
    for key, value in size.items():
        *parents, leaf = key.split(".")
        target = nested
        for parent in parents:
            target = target.setdefault(parent, {})
        target[leaf] = value

    with tempfile.TemporaryDirectory(prefix="calibration-benchmark-") as folder:
        project = copy_project(PROJECT_ROOT, Path(folder), tuple(arguments.architectures))
        keep_architectures(project, arguments.architectures)
        copy_wheels(project)
        namespaces = ",".join(arguments.architectures)
        print("Holdout split:", flush=True)
        kedro_run(
            project,
            ["--pipelines", "ingestion,feature_engineering", "--params", options],
            "features",
        )
        kedro_run(
            project,
            ["--pipeline", "modelling", "--namespaces", namespaces, "--params", options],
            "modelling",
        )
        table = before_and_after(project, arguments.architectures, nested)
        print(table.to_string(index=False), flush=True)
        if not arguments.kfold:
            return
        kfold = f"{options},feature_engineering.split.strategy=kfold,feature_engineering.split.folds={arguments.kfold}"
        print(f"{arguments.kfold}-fold split:", flush=True)
        kedro_run(
            project, ["--pipeline", "feature_engineering", "--params", kfold], "kfold_features"
        )
        kedro_run(
            project,
            ["--pipeline", "modelling", "--namespaces", namespaces, "--params", kfold],
            "kfold_modelling",
        )
        kedro_run(
            project,
            ["--pipeline", "reporting", "--params", f"{kfold},reporting.refit=false"],
            "reporting_without_refit",
        )
        kedro_run(project, ["--pipeline", "reporting", "--params", kfold], "reporting_with_refit")
        log = (project / "logs" / "reporting_with_refit.log").read_text()
        for name, seconds in REFIT_LINE.findall(log):
            print(f"  refit node: '{name}' trained on all tracks in {float(seconds):.1f} s")


if __name__ == "__main__":
    main()
