"""Fixtures of the queue tests: a project copy with tiny features, and tiny queues over it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from mlflow.entities import Run
from mlflow.tracking import MlflowClient

from gtzan_kedro.experiments.queue_file import Queue, parse_queue
from gtzan_kedro.experiments.tracking import EXPERIMENT, ROLE
from tests.conftest import PROJECT_ROOT, copy_project
from tests.pipelines.modelling.conftest import SYNTHETIC_FEATURES, write_feature_input

# One epoch of the MLP on 40 training windows: a session takes a few seconds. The windows are
# those of the synthetic features in data/ (see write_feature_input).
TINY_TRAINING = {
    "modelling.training.epochs": 1,
    "modelling.training.batch_size": 8,
    "modelling.training.early_stopping_patience": 1,
    "feature_engineering.feature_sets.log_mel.window.frames": SYNTHETIC_FEATURES["log_mel"][
        "window"
    ]["frames"],
    "feature_engineering.feature_sets.log_mel.window.hop": SYNTHETIC_FEATURES["log_mel"]["window"][
        "hop"
    ],
}
# The tests pin the code version: the package's source may change while they run.
CODE_VERSION = "test"


def tiny_queue(*experiments: dict[str, Any], name: str = "tiny") -> Queue:
    """A queue of ``experiments`` training only the MLP on the features already in data/."""
    return parse_queue(
        {
            "name": name,
            "defaults": {
                "pipelines": ["modelling"],
                "namespaces": ["mlp"],
                "overrides": TINY_TRAINING,
            },
            "experiments": list(experiments),
        },
        default_name=name,
    )


def experiment_runs(project: Path) -> dict[str, list[Run]]:
    """The project copy's experiment runs by experiment name, newest first."""
    client = MlflowClient(tracking_uri=f"sqlite:///{project}/mlflow.db")
    experiment = client.get_experiment_by_name("gtzan-kedro")
    runs: dict[str, list[Run]] = {}
    for run in client.search_runs(
        [experiment.experiment_id],
        filter_string=f"tags.`{ROLE}` = 'experiment'",
        order_by=["attributes.start_time DESC"],
    ):
        runs.setdefault(run.data.tags[EXPERIMENT], []).append(run)
    return runs


@pytest.fixture
def queue_project(tmp_path: Path) -> Path:
    """A project copy whose features are tiny (16 frames x 8 mel bands), as if the feature
    pipelines had run: the queues only run `modelling`."""
    project = copy_project(PROJECT_ROOT, tmp_path)
    write_feature_input(project / "data")
    return project
