"""The summary: headline per experiment, best first, and the plot of varied parameters."""

from __future__ import annotations

import math
from types import SimpleNamespace

import pytest

from gtzan_kedro.experiments.queue_file import Experiment, Queue
from gtzan_kedro.experiments.summary import (
    common_overrides,
    headline,
    plot_summary,
    summary_markdown,
    summary_table,
)
from gtzan_kedro.experiments.tracking import ERROR, ExperimentRecord

PARAMETERS = {"lstm": {"model": {"units": 64}}, "modelling": {"training": {"epochs": 20}}}
METRICS = {"lstm.track_accuracy": 0.6, "gru.track_accuracy": 0.7, "gru.val_track_accuracy": 0.9}


def run(status: str, metrics: dict[str, float] | None = None, error: str = "") -> SimpleNamespace:
    """What the summary reads of an MLflow run."""
    return SimpleNamespace(
        info=SimpleNamespace(status=status, run_id=f"run-{status.lower()}-{len(metrics or {})}"),
        data=SimpleNamespace(metrics=metrics or {}, tags={ERROR: error} if error else {}),
    )


def record(name: str, overrides: dict, finished: SimpleNamespace | None) -> ExperimentRecord:
    return ExperimentRecord(Experiment(name, overrides), key="k", run=finished)


def test_the_headline_is_the_best_architectures_metric_or_the_one_named():
    assert headline(METRICS, "track_accuracy", greater_is_better=True) == (0.7, "gru")
    assert headline(METRICS, "track_accuracy", greater_is_better=False) == (0.6, "lstm")
    assert headline(METRICS, "lstm.track_accuracy", greater_is_better=True) == (0.6, "lstm")
    assert math.isnan(headline(METRICS, "track_macro_f1", greater_is_better=True)[0])


@pytest.fixture
def records() -> list[ExperimentRecord]:
    epochs = {"modelling.training.epochs": 2}
    return [
        record("small", {**epochs, "lstm.model.units": 32}, run("FINISHED", {"lstm.x": 0.5})),
        record("failed", {**epochs, "lstm.model.unit": 1}, run("FAILED", error="Unknown | key")),
        record("default", epochs, run("FINISHED", {"lstm.x": 0.8})),
        record("large", {**epochs, "lstm.model.units": 128}, None),
    ]


def test_the_table_ranks_finished_experiments_best_first_with_their_overrides(records):
    queue = Queue("q", tuple(r.experiment for r in records), metric="x")

    table = summary_table(queue, records, PARAMETERS)

    assert list(table["experiment"]) == ["default", "small", "failed", "large"]
    assert list(table["state"]) == ["done", "done", "failed", "pending"]
    assert list(table["x"].fillna(-1)) == [0.8, 0.5, -1, -1]
    # Varied keys only; the configured value where an experiment leaves the key alone.
    assert list(table["lstm.model.units"]) == [64, 32, 64, 128]
    assert list(table["lstm.model.unit"]) == [None, None, 1, None]
    assert "modelling.training.epochs" not in table
    assert list(table["error"]) == ["", "", "Unknown | key", ""]

    markdown = summary_markdown(queue, table, common_overrides(list(queue.experiments)))

    assert "Every experiment also overrides: `modelling.training.epochs=2`" in markdown
    assert "| default | done | 0.800 | lstm | 64 |  |  | run-finished-1 |" in markdown
    assert "| failed | failed |  |  | 64 | 1 | Unknown \\| key | run-failed-0 |" in markdown


def test_the_plot_has_one_panel_per_parameter_varied_among_finished_experiments(records):
    queue = Queue("q", tuple(r.experiment for r in records), metric="x")
    table = summary_table(queue, records, PARAMETERS)

    figure = plot_summary(queue, table, list(queue.experiments))

    # lstm.model.unit varies only through the failed experiment: no panel.
    assert [axes.get_xlabel() for axes in figure.axes] == ["lstm.model.units"]


def test_no_plot_when_nothing_varies_among_finished_experiments(records):
    queue = Queue("q", tuple(r.experiment for r in records[:2]), metric="x")
    table = summary_table(queue, records[:2], PARAMETERS)

    assert plot_summary(queue, table, list(queue.experiments)) is None
