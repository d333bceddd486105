"""Nodes of the reporting pipeline: compare the architectures' test scores."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from gtzan_kedro.genres import GENRES

logger = logging.getLogger(__name__)


def compare_architectures(rank_by: list[str], **metrics: dict[str, float] | None) -> pd.DataFrame:
    """One row of test scores per evaluated architecture, best first by ``rank_by``."""
    evaluated = {
        architecture: scores for architecture, scores in metrics.items() if scores is not None
    }
    missing = sorted(set(metrics) - set(evaluated))
    if missing:
        logger.warning(
            "Not compared, never evaluated: %s. Add them with `kedro run --pipeline modelling "
            "--namespaces %s`.",
            ", ".join(missing),
            ",".join(missing),
        )
    if not evaluated:
        raise ValueError(
            "No architecture has been evaluated yet: run the modelling pipeline first."
        )
    table = (
        pd.DataFrame.from_dict(evaluated, orient="index").rename_axis("architecture").reset_index()
    )
    return table.sort_values(rank_by, ascending=False, kind="stable").reset_index(drop=True)


def comparison_markdown(comparison: pd.DataFrame) -> str:
    """The comparison as a Markdown table, scores to three decimals."""
    header = ["rank", *comparison.columns]
    rows = [
        [str(rank), *(f"{value:.3f}" if isinstance(value, float) else str(value) for value in row)]
        for rank, row in enumerate(comparison.itertuples(index=False), start=1)
    ]
    lines = [
        "# Architectures on the test split",
        "",
        "Track scores average each track's sequence probabilities; macro scores weigh genres equally.",
        "",
        "| " + " | ".join(header) + " |",
        "|"
        + "|".join(" --- " if column == "architecture" else " ---: " for column in header)
        + "|",
        *("| " + " | ".join(row) + " |" for row in rows),
    ]
    return "\n".join(lines) + "\n"


def plot_comparison(comparison: pd.DataFrame, chart_metrics: list[str]) -> Figure:
    """Grouped bars of ``chart_metrics`` per architecture, in the comparison's order."""
    figure = Figure(figsize=(max(6, 1.2 * len(comparison)), 4.5))
    axes = figure.subplots()
    positions = np.arange(len(comparison))
    width = 0.8 / len(chart_metrics)
    for index, metric in enumerate(chart_metrics):
        bars = axes.bar(
            positions + (index - (len(chart_metrics) - 1) / 2) * width,
            comparison[metric],
            width,
            label=metric.replace("_", " "),
        )
        axes.bar_label(bars, fmt="%.2f", fontsize=8)
    axes.axhline(1 / len(GENRES), color="grey", linestyle="--", linewidth=1, label="chance")
    axes.set_xticks(positions, comparison["architecture"])
    axes.set(ylim=(0, 1.05), ylabel="score on the test tracks", title="Architectures, best first")
    axes.legend(loc="upper right", fontsize=8)
    figure.tight_layout()
    return figure
