"""Fixtures shared by the pipelines' tests: a tiny project after cross-validated features."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import PROJECT_ROOT, copy_project
from tests.pipelines.modelling.conftest import run_session

# 3 clips of 3 s per genre in 3 folds; each fold's other tracks give one validation track
# per genre, and the refit (all tracks) one too.
KFOLD_PARAMS: dict[str, Any] = {
    "ingestion": {"generator": {"clips_per_genre": 3, "clip_seconds": 3.0}},
    "feature_engineering": {
        "split": {
            "strategy": "kfold",
            "folds": 3,
            "validation_size": 0.25,
            "min_tracks_per_label": 1,
        },
        "executor": {"n_jobs": 1},
        "feature_sets": {
            "log_mel": {"window": {"frames": 32, "hop": 16}},
            # Several windows per track: the SVM's own 3-fold calibration needs 3 per genre.
            "mfcc_stats": {"params": {"window_frames": 32, "window_hop": 16}},
        },
    },
}


@dataclass(frozen=True)
class KfoldProject:
    """A project copy after ingestion and feature engineering with a 3-fold split."""

    path: Path
    params: dict[str, Any]


@pytest.fixture(scope="session")
def kfold_project(tmp_path_factory: pytest.TempPathFactory) -> KfoldProject:
    """Ingestion and feature engineering of tiny generated clips, split into 3 folds."""
    project = copy_project(PROJECT_ROOT, tmp_path_factory.mktemp("kfold"))
    run_session(project, ["ingestion", "feature_engineering"], KFOLD_PARAMS)
    return KfoldProject(path=project, params=KFOLD_PARAMS)
