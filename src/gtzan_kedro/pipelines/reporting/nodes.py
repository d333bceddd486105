"""Nodes of the reporting pipeline: compare the architectures' test scores."""

from __future__ import annotations

import hashlib
import logging
from typing import Any

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


def _fingerprint(table: pd.DataFrame) -> str:
    """A short hash of a table's rows, for telling two sets of tracks apart."""
    rows = table.astype(str).sort_values(list(table.columns)).to_csv(index=False)
    return hashlib.sha256(rows.encode()).hexdigest()[:16]


def choose_champion(
    comparison: pd.DataFrame,
    current_champion: dict[str, Any] | None,
    track_splits: pd.DataFrame,
    architectures: dict[str, dict[str, Any]],
    promote: str,
) -> dict[str, Any]:
    """Register the best architecture; move ``champion`` unless the current one scored higher.

    Scores are compared only on the same test tracks; ``promote: always`` moves it anyway.
    """
    best = comparison.iloc[0]
    name = best["architecture"]
    test_tracks = _fingerprint(track_splits.loc[track_splits["split"] == "test", ["track_id", "path"]])
    tags = {
        "architecture": name,
        "builder": architectures[name]["builder"],
        "feature_set": architectures[name]["features"],
        "track_accuracy": f"{best['track_accuracy']:.4f}",
        "data_fingerprint": _fingerprint(track_splits[["track_id", "path", "duration_s"]]),
        "split_fingerprint": _fingerprint(track_splits[["track_id", "split"]]),
        "test_tracks_fingerprint": test_tracks,
    }
    beaten = (
        current_champion is not None
        and current_champion.get("test_tracks_fingerprint") == test_tracks
        and float(current_champion.get("track_accuracy", "nan")) > best["track_accuracy"]
    )
    if beaten and promote != "always":
        logger.warning(
            "The champion (version %s, '%s', track accuracy %s) scored higher on the same test "
            "tracks than '%s' (%.4f): it stays champion. Promote anyway with `kedro run "
            "--pipeline reporting --params reporting.promote_champion=always`.",
            current_champion["version"],
            current_champion.get("architecture"),
            current_champion.get("track_accuracy"),
            name,
            best["track_accuracy"],
        )
    return {"architecture": name, "tags": tags, "promote": not beaten or promote == "always"}
