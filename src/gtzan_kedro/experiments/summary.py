"""The queue's summary: experiments best first by the headline metric, and how it moves
with each parameter the experiments vary."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from gtzan_kedro.experiments.queue_file import Experiment, Queue, show
from gtzan_kedro.experiments.tracking import ERROR, ExperimentRecord


def headline(metrics: dict[str, float], metric: str, greater_is_better: bool) -> tuple[float, str]:
    """The experiment's headline value and the architecture it comes from.

    ``lstm.track_accuracy`` is that metric; a bare ``track_accuracy`` is the best of every
    architecture's (``<namespace>.track_accuracy``) in the run. NaN when the run has none.
    """
    if "." in metric:
        return metrics.get(metric, math.nan), metric.split(".", 1)[0]
    candidates = {
        name.rsplit(".", 1)[0]: value
        for name, value in metrics.items()
        if name.rsplit(".", 1)[-1] == metric and "." in name
    }
    if not candidates:
        return math.nan, ""
    pick = max if greater_is_better else min
    architecture = pick(candidates, key=candidates.__getitem__)
    return candidates[architecture], architecture


def varied_keys(experiments: list[Experiment]) -> list[str]:
    """Override keys whose value is not the same in every experiment, in first-seen order."""
    keys = list(dict.fromkeys(key for e in experiments for key in e.overrides))
    return [
        key
        for key in keys
        if len({show(e.overrides[key]) if key in e.overrides else None for e in experiments}) > 1
    ]


def summary_table(
    queue: Queue, records: list[ExperimentRecord], parameters: dict[str, Any]
) -> pd.DataFrame:
    """One row per experiment: headline, state, the varied overrides (configured values where
    an experiment leaves one alone), error and run id; finished ones first, best first."""
    keys = varied_keys([record.experiment for record in records])
    rows = []
    for record in records:
        run = record.run
        value, architecture = (
            headline(run.data.metrics, queue.metric, queue.greater_is_better)
            if run is not None
            else (math.nan, "")
        )
        rows.append(
            {
                "experiment": record.experiment.name,
                "state": record.state,
                queue.metric: value,
                "architecture": architecture,
                **{
                    key: record.experiment.overrides.get(key, configured(parameters, key))
                    for key in keys
                },
                "error": (run.data.tags.get(ERROR, "") if run is not None else ""),
                "run_id": run.info.run_id if run is not None else "",
            }
        )
    # Objects, not inferred dtypes: an override column with a missing value would turn 3 into 3.0.
    table = pd.DataFrame(rows, dtype=object).astype({queue.metric: float})
    ranked = table.assign(unfinished=table["state"] != "done").sort_values(
        ["unfinished", queue.metric],
        ascending=[True, not queue.greater_is_better],
        kind="stable",
        na_position="last",
    )
    return ranked.drop(columns="unfinished").reset_index(drop=True)


def common_overrides(experiments: list[Experiment]) -> dict[str, Any]:
    """Overrides every experiment has with the same value (the queue's defaults, typically)."""
    varied = set(varied_keys(experiments))
    return {
        key: value
        for key, value in experiments[0].overrides.items()
        if key not in varied and all(key in e.overrides for e in experiments)
    }


def summary_markdown(queue: Queue, table: pd.DataFrame, common: dict[str, Any]) -> str:
    """The summary table in Markdown, under the overrides all experiments share."""
    columns = [column for column in table.columns if column != "error" or table[column].any()]
    lines = [
        f"# Queue '{queue.name}': {queue.metric}, best first",
        "",
        "Every experiment also overrides: "
        + (", ".join(f"`{key}={show(value)}`" for key, value in common.items()) or "nothing"),
        "",
        "| " + " | ".join(columns) + " |",
        "|" + "|".join(" --- " for _ in columns) + "|",
    ]
    for row in table[columns].to_dict("records"):
        cells = (
            _score(value) if column == queue.metric else "" if value is None else show(value)
            for column, value in row.items()
        )
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    return "\n".join(lines) + "\n"


def plot_summary(queue: Queue, table: pd.DataFrame, experiments: list[Experiment]) -> Figure | None:
    """The headline of each finished experiment against each parameter that varies among
    them, one panel per parameter; None when none does.

    Experiments that leave a parameter alone sit at its configured value, in grey: the
    coloured points are the ones that set it.
    """
    done = table[table["state"] == "done"]
    keys = [key for key in varied_keys(experiments) if done[key].map(show).nunique() > 1]
    if not keys:
        return None
    overrides = {experiment.name: experiment.overrides for experiment in experiments}
    figure = Figure(figsize=(4 * len(keys), 3.8))
    for axes, key in zip(figure.subplots(1, len(keys), squeeze=False)[0], keys, strict=True):
        values = list(done[key])
        if all(isinstance(value, int | float) and not isinstance(value, bool) for value in values):
            positions = values
            if min(values) > 0 and max(values) >= 10 * min(values):
                axes.set_xscale("log")  # learning rates, regularisation strengths
                axes.minorticks_off()
            ticks = sorted(set(values))
            axes.set_xticks(ticks, [show(tick) for tick in ticks], rotation=30, ha="right")
        else:
            # Lists and text on a categorical axis, in the order they first appear.
            labels = list(dict.fromkeys(show(value) for value in values))
            positions = [labels.index(show(value)) for value in values]
            axes.set_xticks(range(len(labels)), labels, rotation=30, ha="right")
        set_here = [key in overrides[name] for name in done["experiment"]]
        for is_set, colour, label in (
            (False, "lightgrey", "configured value"),
            (True, "C0", "set"),
        ):
            chosen = [index for index, flag in enumerate(set_here) if flag == is_set]
            axes.scatter(
                [positions[i] for i in chosen],
                done[queue.metric].iloc[chosen],
                color=colour,
                label=label,
                zorder=2,
            )
        axes.set(xlabel=key, ylabel=queue.metric)
        axes.grid(alpha=0.3)
    axes.legend(fontsize=8)
    figure.suptitle(f"Queue '{queue.name}': {queue.metric} by parameter")
    figure.tight_layout()
    return figure


def configured(parameters: dict[str, Any], key: str) -> Any:
    """The configured value of a dotted parameter key, None if there is none."""
    value: Any = parameters
    for part in key.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def _score(value: float) -> str:
    return "" if math.isnan(value) else f"{value:.3f}"
