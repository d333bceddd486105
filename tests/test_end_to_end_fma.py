"""`kedro run --env fma` on a tiny FMA-shaped copy: FMA's genres, statuses and split, end to end."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml
from mlflow.tracking import MlflowClient

from tests.commands.conftest import run_command
from tests.conftest import PROJECT_ROOT, copy_project
from tests.sources.fma_copies import SPLITS, STYLES, fma_copy

TINY = {
    "feature_engineering": {
        "feature_sets": {"log_mel": {"window": {"frames": 32, "hop": 16}}},
        "executor": {"n_jobs": 1},
    },
    "modelling": {"training": {"epochs": 2, "batch_size": 16}},
}


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, list[int]], str]:
    """A project copy after `kedro run --env fma` on a local copy; its kinds of track; the log."""
    root = tmp_path_factory.mktemp("fma_run")
    kinds = fma_copy(root / "fma")
    project = copy_project(PROJECT_ROOT, root, architectures=("mlp", "svm"))
    conf = project / "conf" / "fma" / "parameters.yml"
    parameters = yaml.safe_load(conf.read_text())
    parameters["ingestion"]["fma"] |= {"download": False, "path": str(root / "fma")}
    parameters["modelling"] = TINY["modelling"]
    parameters["feature_engineering"] |= TINY["feature_engineering"]
    conf.write_text(yaml.safe_dump(parameters))
    result = run_command("kedro", "run", "--env", "fma", cwd=project, timeout=600)
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-5000:]
    return project, kinds, log


@pytest.mark.slow
def test_fma_tracks_are_labelled_with_their_top_genre_and_the_others_listed(run):
    project, kinds, _ = run
    data = project / "data"
    label_set = json.loads((data / "02_intermediate" / "label_set.json").read_text())
    table = pd.read_parquet(data / "02_intermediate" / "track_table.parquet").set_index("track_id")

    assert label_set["labels"] == sorted(STYLES) and label_set["source"] == "fma"
    assert (data / "01_raw" / "fma" / "Hip-Hop").is_dir()
    status = {
        kind: table.loc[f"{ids[0]:06d}", "status"]
        for kind, ids in kinds.items()
        if kind != "medium"
    }
    assert status == {
        "ok": "ok",
        "no_label": "no_label",
        "missing": "missing",
        "broken": "unreadable",
    }
    assert f"{kinds['medium'][0]:06d}" not in table.index  # not in the small subset
    assert (table["status"] == "ok").sum() == len(kinds["ok"])


@pytest.mark.slow
def test_the_split_is_fmas_own(run):
    project, kinds, _ = run
    splits = pd.read_parquet(project / "data" / "03_primary" / "track_splits.parquet")

    expected = {"training": "train", "validation": "validation", "test": "test"}
    by_track = dict(zip(splits["track_id"], splits["split"], strict=True))
    assert len(by_track) == len(kinds["ok"])
    for position, track_id in enumerate(kinds["ok"]):
        assert by_track[f"{track_id:06d}"] == expected[SPLITS[position % len(SPLITS)]]


@pytest.mark.slow
def test_models_are_trained_on_fmas_genres_and_registered(run):
    project, _, log = run
    data = project / "data"
    comparison = pd.read_csv(data / "08_reporting" / "architecture_comparison.csv")
    report = pd.read_csv(data / "08_reporting" / "svm" / "classification_report.csv")
    champion = MlflowClient(
        tracking_uri=f"sqlite:///{project}/mlflow.db"
    ).get_model_version_by_alias("genre_classifier", "champion")

    assert sorted(comparison["architecture"]) == ["mlp", "svm"]
    assert list(report["genre"].iloc[:3]) == sorted(STYLES)
    assert champion.tags["labels"] == ", ".join(sorted(STYLES))
    assert "MLflow run name: '__default__ dataset'" in log
