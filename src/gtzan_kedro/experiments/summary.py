"""The queue's summary: each experiment's run as ``mlflow.search_runs`` returns it, best first
by the headline metric, in Markdown; MLflow's compare view shows the runs side by side."""

from __future__ import annotations

import json
import re
from urllib.parse import quote

import mlflow
import pandas as pd

from gtzan_kedro.experiments.queue_file import Queue, show
from gtzan_kedro.experiments.tracking import ERROR, ExperimentRecord

# Where `mlflow ui` serves by default (README: "Looking at the results").
MLFLOW_UI = "http://127.0.0.1:5000"


def experiment_runs(records: list[ExperimentRecord], experiment_id: str) -> pd.DataFrame:
    """The records' runs from ``mlflow.search_runs``: one row per run, ``metrics.*``, ``tags.*``."""
    run_ids = [record.run.info.run_id for record in records if record.run is not None]
    if not run_ids:
        return pd.DataFrame(columns=["run_id"])
    # Run ids are hexadecimal: safe inside MLflow's filter syntax.
    listed = ", ".join(f"'{run_id}'" for run_id in run_ids)
    return mlflow.search_runs(
        [experiment_id], filter_string=f"attributes.run_id IN ({listed})", output_format="pandas"
    )


def summary_table(
    queue: Queue, records: list[ExperimentRecord], runs: pd.DataFrame
) -> pd.DataFrame:
    """One row per experiment: state, headline, the overrides that vary between experiments
    (blank: the configured value), error and run id; finished ones first, best first."""
    overrides = overrides_table(queue)
    table = pd.DataFrame(
        {
            "experiment": [record.experiment.name for record in records],
            "state": [record.state for record in records],
            "run_id": [record.run.info.run_id if record.run else None for record in records],
        }
    ).merge(runs, on="run_id", how="left")
    value, architecture = headline(table, queue.metric, queue.greater_is_better)
    error = table.get(f"tags.{ERROR}", pd.Series("", index=table.index))
    summary = pd.concat(
        [
            table[["experiment", "state"]],
            pd.DataFrame({queue.metric: value, "architecture": architecture}),
            overrides[varied(overrides)],
            pd.DataFrame({"error": error.fillna(""), "run_id": table["run_id"]}),
        ],
        axis="columns",
    )
    ranked = summary.assign(unfinished=summary["state"] != "done").sort_values(
        ["unfinished", queue.metric],
        ascending=[True, not queue.greater_is_better],
        na_position="last",
        kind="stable",
    )
    return ranked.drop(columns="unfinished").reset_index(drop=True)


def headline(
    table: pd.DataFrame, metric: str, greater_is_better: bool
) -> tuple[pd.Series, pd.Series]:
    """Each run's headline value and the architecture it comes from.

    ``lstm.track_accuracy`` is that metric; a bare ``track_accuracy`` is the best of every
    architecture's (``<namespace>.track_accuracy``) in the run. NaN when the run has none.
    """
    pattern = re.escape(metric) if "." in metric else rf"[^.]+\.{re.escape(metric)}"
    scores = table.filter(regex=rf"^metrics\.{pattern}$").astype(float)
    scores.columns = [column.removeprefix("metrics.").split(".")[0] for column in scores.columns]
    if scores.empty or scores.columns.empty:
        return pd.Series(float("nan"), index=table.index), pd.Series("", index=table.index)
    value = scores.max(axis=1) if greater_is_better else scores.min(axis=1)
    best = scores.fillna(-float("inf") if greater_is_better else float("inf"))
    architecture = best.idxmax(axis=1) if greater_is_better else best.idxmin(axis=1)
    return value, architecture.where(value.notna(), "")


def overrides_table(queue: Queue) -> pd.DataFrame:
    """Each experiment's overrides as they read in the queue file, one column per key."""
    return pd.DataFrame(
        [{key: show(value) for key, value in e.overrides.items()} for e in queue.experiments],
        dtype=object,
    )


def varied(overrides: pd.DataFrame) -> list[str]:
    """Override keys whose value is not the same in every experiment."""
    return [key for key in overrides if overrides[key].nunique(dropna=False) > 1]


def summary_markdown(queue: Queue, table: pd.DataFrame, experiment_id: str) -> str:
    """The summary table in Markdown, under the overrides all experiments share and above a
    link to MLflow's comparison of the finished runs."""
    overrides = overrides_table(queue)
    common = [
        f"`{key}={overrides[key].iloc[0]}`"
        for key in overrides
        if key not in varied(overrides) and overrides[key].notna().all()
    ]
    shown = table.astype(object).where(table.notna(), None)
    if table["error"].any():
        # A `|` or a line break in an error message would split its cell or its row.
        escaped = table["error"].str.replace("|", r"\|", regex=False)
        shown["error"] = escaped.str.replace("\n", " ", regex=False)
    else:
        shown = shown.drop(columns="error")
    done = list(table.loc[table["state"] == "done", "run_id"])
    lines = [
        f"# Queue '{queue.name}': {queue.metric}, best first",
        "",
        "Every experiment also overrides: " + (", ".join(common) or "nothing"),
        "",
        shown.to_markdown(index=False, floatfmt=".3f", missingval=""),
        "",
        "Side by side in MLflow (parameters, metrics, plots): run `mlflow ui` in the project "
        f"root and open {compare_url(done, experiment_id)}",
    ]
    return "\n".join(lines) + "\n"


def compare_url(run_ids: list[str], experiment_id: str) -> str:
    """The address of MLflow's compare view of these runs, under `mlflow ui`'s default."""
    query = f"runs={quote(json.dumps(run_ids))}&experiments={quote(json.dumps([experiment_id]))}"
    return f"{MLFLOW_UI}/#/compare-runs?{query}"
