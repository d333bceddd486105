"""Queues through real Kedro sessions on tiny data: one MLflow run per experiment, resumable,
failures recorded one by one. Tracking goes to the project copy's own SQLite store."""

from __future__ import annotations

from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

from gtzan_kedro.experiments.runner import queue_status, run_queue
from gtzan_kedro.experiments.tracking import CODE_VERSION as CODE_VERSION_TAG
from gtzan_kedro.experiments.tracking import ERROR, PARENT, QUEUE
from tests.experiments.conftest import CODE_VERSION, experiment_runs, tiny_queue

UNITS = "modelling.architectures.mlp.model.units"
SMALL = {"name": "small", "overrides": {UNITS: [8]}}
LARGE = {"name": "large", "overrides": {UNITS: [32]}}


@pytest.mark.slow
def test_each_experiment_is_its_own_run_and_a_rerun_starts_only_those_that_changed(
    queue_project: Path,
):
    # One queue's sessions serve both: what its first run records, then what a rerun adds.
    summary = run_queue(tiny_queue(SMALL, LARGE), queue_project, code_version=CODE_VERSION)

    runs = experiment_runs(queue_project)
    assert sorted(runs) == ["large", "small"]
    small, large = runs["small"][0], runs["large"][0]
    for run in (small, large):
        assert run.info.status == "FINISHED"
        assert run.data.params["modelling.training.epochs"] == "1"  # the queue's default
        assert run.data.tags[QUEUE] == "tiny"
        assert run.data.tags[CODE_VERSION_TAG] == CODE_VERSION
        assert run.data.tags[PARENT] == summary.parent_run_id
        assert 0.0 <= run.data.metrics["mlp.track_accuracy"] <= 1.0
    assert small.data.params[UNITS] == "[8]"
    assert large.data.params[UNITS] == "[32]"
    assert large.data.tags[f"queue.override.{UNITS}"] == "[32]"
    # Different models, different results.
    assert small.data.metrics["mlp.train_loss"] != large.data.metrics["mlp.train_loss"]

    assert list(summary.table["state"]) == ["done", "done"]
    assert summary.table["track_accuracy"].is_monotonic_decreasing
    assert sorted(map(str, summary.table[UNITS])) == ["[32]", "[8]"]
    client = MlflowClient(tracking_uri=f"sqlite:///{queue_project}/mlflow.db")
    parent = client.get_run(summary.parent_run_id)
    assert parent.info.status == "FINISHED"
    assert {artifact.path for artifact in client.list_artifacts(summary.parent_run_id)} == {
        "queue_summary.md",
        "queue_summary.csv",
    }
    assert "#/compare-runs?runs=" in summary.markdown

    again = run_queue(tiny_queue(SMALL, LARGE), queue_project, code_version=CODE_VERSION)

    assert {name: len(runs) for name, runs in experiment_runs(queue_project).items()} == {
        "small": 1,
        "large": 1,
    }
    assert again.parent_run_id == summary.parent_run_id  # one parent run per queue
    assert list(again.table["state"]) == ["done", "done"]

    changed = {"name": "large", "overrides": {UNITS: [16]}}
    run_queue(tiny_queue(SMALL, changed), queue_project, code_version=CODE_VERSION)

    runs = experiment_runs(queue_project)
    assert {name: len(runs) for name, runs in runs.items()} == {"small": 1, "large": 2}
    assert runs["large"][0].data.params[UNITS] == "[16]"
    # Other code: every experiment is pending again.
    status = queue_status(tiny_queue(SMALL, changed), queue_project, code_version="other")
    assert list(status.table["state"]) == ["pending", "pending"]


@pytest.mark.slow
def test_a_failing_experiment_is_recorded_and_the_queue_goes_on(queue_project: Path):
    queue = tiny_queue(
        {"name": "unknown-key", "overrides": {f"{UNITS[:-1]}": [8]}},
        {"name": "wrong-type", "overrides": {"modelling.training.epochs": "two"}},
        SMALL,
        # Valid parameters, but there is no track table to split: fails inside the session.
        {"name": "crash", "pipelines": ["feature_engineering"], "namespaces": None},
    )

    summary = run_queue(queue, queue_project, code_version=CODE_VERSION)

    runs = experiment_runs(queue_project)
    errors = {name: runs[name][0].data.tags.get(ERROR, "") for name in runs}
    assert {name: runs[name][0].info.status for name in runs} == {
        "unknown-key": "FAILED",
        "wrong-type": "FAILED",
        "crash": "FAILED",
        "small": "FINISHED",
    }
    assert "Unknown parameter modelling.architectures.mlp.model.unit:" in errors["unknown-key"]
    assert "build_mlp takes: units, dropout" in errors["unknown-key"]
    assert "Invalid parameter modelling.training.epochs='two'" in errors["wrong-type"]
    assert "track_table" in errors["crash"]
    assert errors["small"] == ""
    assert summary.failed == ["unknown-key", "wrong-type", "crash"]

    # A rerun retries the failed experiments only.
    run_queue(queue, queue_project, code_version=CODE_VERSION)
    runs = experiment_runs(queue_project)
    assert {name: len(runs[name]) for name in runs} == {
        "unknown-key": 2,
        "wrong-type": 2,
        "crash": 2,
        "small": 1,
    }
    status = queue_status(queue, queue_project, code_version=CODE_VERSION)
    assert dict(zip(status.table["experiment"], status.table["state"], strict=True)) == {
        "small": "done",
        "unknown-key": "failed",
        "wrong-type": "failed",
        "crash": "failed",
    }
