"""The summary: each experiment's run from MLflow, best first by the headline, in Markdown with
a link to MLflow's compare view."""

from __future__ import annotations

import json
import math
from pathlib import Path
from urllib.parse import unquote

import mlflow
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from gtzan_kedro.experiments.queue_file import Experiment, Queue
from gtzan_kedro.experiments.summary import (
    experiment_runs,
    headline,
    summary_markdown,
    summary_table,
)
from gtzan_kedro.experiments.tracking import ERROR, ExperimentRecord

EPOCHS = {"modelling.training.epochs": 2}


@pytest.fixture
def client(tmp_path: Path) -> MlflowClient:
    """A throw-away SQLite tracking store, also MLflow's current one during the test."""
    previous = mlflow.get_tracking_uri()
    uri = f"sqlite:///{tmp_path}/mlflow.db"
    mlflow.set_tracking_uri(uri)
    yield MlflowClient(tracking_uri=uri)
    mlflow.set_tracking_uri(previous)


def finished_run(client: MlflowClient, experiment_id: str, metrics: dict, error: str = ""):
    """A run with these metrics, FINISHED, or FAILED with ``error`` as its queue error tag."""
    run = client.create_run(experiment_id, tags={ERROR: error} if error else {})
    for key, value in metrics.items():
        client.log_metric(run.info.run_id, key, value)
    client.set_terminated(run.info.run_id, "FAILED" if error else "FINISHED")
    return client.get_run(run.info.run_id)


@pytest.fixture
def queue_records(client: MlflowClient) -> tuple[Queue, list[ExperimentRecord], str]:
    """Four experiments: two finished with different units, one failed, one pending."""
    experiment_id = client.create_experiment("queue-test")
    experiments = [
        Experiment("small", {**EPOCHS, "lstm.model.units": 32}),
        Experiment("failed", {**EPOCHS, "lstm.model.unit": 1}),
        Experiment("default", EPOCHS),
        Experiment("large", {**EPOCHS, "lstm.model.units": [128, 64]}),
    ]
    runs = [
        finished_run(client, experiment_id, {"lstm.x": 0.5, "gru.x": 0.55, "lstm.y": 0.9}),
        finished_run(client, experiment_id, {}, error="Unknown | key"),
        finished_run(client, experiment_id, {"lstm.x": 0.8, "gru.x": 0.6}),
        None,
    ]
    records = [
        ExperimentRecord(experiment, key="k", run=run)
        for experiment, run in zip(experiments, runs, strict=True)
    ]
    return Queue("q", tuple(experiments), metric="x"), records, experiment_id


def test_the_table_ranks_finished_experiments_best_first_with_their_varied_overrides(
    queue_records,
):
    queue, records, experiment_id = queue_records

    table = summary_table(queue, records, experiment_runs(records, experiment_id))

    assert list(table["experiment"]) == ["default", "small", "failed", "large"]
    assert list(table["state"]) == ["done", "done", "failed", "pending"]
    # The best architecture's metric in each run, and which one it is.
    assert list(table["x"].fillna(-1)) == [0.8, 0.55, -1, -1]
    assert list(table["architecture"]) == ["lstm", "gru", "", ""]
    # Only the keys that vary, as the queue file writes them; missing: the configured value.
    assert list(table["lstm.model.units"].fillna("")) == ["", "32", "", "[128, 64]"]
    assert list(table["lstm.model.unit"].fillna("")) == ["", "", "1", ""]
    assert "modelling.training.epochs" not in table
    assert list(table["error"]) == ["", "", "Unknown | key", ""]
    assert list(table["run_id"][:3]) == [records[i].run.info.run_id for i in (2, 0, 1)]


def test_a_namespaced_metric_is_that_architectures_and_lower_can_be_better(queue_records):
    queue, records, experiment_id = queue_records
    runs = experiment_runs(records, experiment_id)
    lower = Queue("q", queue.experiments, metric="gru.x", greater_is_better=False)

    table = summary_table(lower, records, runs)

    assert list(table["experiment"][:2]) == ["small", "default"]
    assert list(table["gru.x"][:2]) == [0.55, 0.6]
    assert math.isnan(headline(runs, "z", greater_is_better=True)[0].iloc[0])


def test_the_markdown_shows_the_table_shared_overrides_and_a_link_to_mlflows_comparison(
    queue_records,
):
    queue, records, experiment_id = queue_records
    table = summary_table(queue, records, experiment_runs(records, experiment_id))

    markdown = summary_markdown(queue, table, experiment_id)

    assert markdown.startswith("# Queue 'q': x, best first\n")
    assert "Every experiment also overrides: `modelling.training.epochs=2`" in markdown
    rows = [line.split("|")[1:-1] for line in markdown.splitlines() if line.startswith("| ")]
    cells = [[cell.strip() for cell in row] for row in rows]
    assert cells[0] == ["experiment", "state", "x", "architecture", "lstm.model.units",
                        "lstm.model.unit", "error", "run_id"]  # fmt: skip
    assert cells[1][:6] == ["default", "done", "0.800", "lstm", "", ""]
    assert cells[3][:6] == ["failed", "failed", "", "", "", "1"]
    assert r"| Unknown \| key |" in markdown  # escaped: one cell
    assert cells[4][:5] == ["large", "pending", "", "", "[128, 64]"]
    link = markdown.rsplit("open ", 1)[1].strip()
    assert link.startswith("http://127.0.0.1:5000/#/compare-runs?runs=")
    runs, experiments = (unquote(part.split("=", 1)[1]) for part in link.split("?")[1].split("&"))
    assert json.loads(runs) == [records[2].run.info.run_id, records[0].run.info.run_id]
    assert json.loads(experiments) == [experiment_id]


def test_without_errors_or_runs_the_markdown_has_no_error_column(client: MlflowClient):
    experiment_id = client.create_experiment("pending")
    queue = Queue("p", (Experiment("a", {"k": 1}), Experiment("b", {"k": 2})), metric="x")
    records = [ExperimentRecord(e, key="k", run=None) for e in queue.experiments]

    runs = experiment_runs(records, experiment_id)
    table = summary_table(queue, records, runs)

    assert runs.equals(pd.DataFrame(columns=["run_id"]))
    assert list(table["state"]) == ["pending", "pending"]
    assert "error" not in summary_markdown(queue, table, experiment_id).splitlines()[4]
