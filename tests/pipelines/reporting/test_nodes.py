"""The comparison of architectures: ranking, missing architectures, Markdown and chart."""

from __future__ import annotations

import logging

import pytest

from gtzan_kedro.pipelines.modelling.architectures import ARCHITECTURES
from gtzan_kedro.pipelines.reporting.nodes import (
    compare_architectures,
    comparison_markdown,
    plot_comparison,
)
from gtzan_kedro.pipelines.reporting.pipeline import create_pipeline

RANK_BY = ["track_accuracy", "track_macro_f1"]


def scores(accuracy: float, f1: float) -> dict[str, float]:
    """Metrics as the modelling pipeline writes them (two of them)."""
    return {"track_accuracy": accuracy, "track_macro_f1": f1}


def test_architectures_are_ranked_by_track_accuracy_then_macro_f1():
    comparison = compare_architectures(
        RANK_BY, lstm=scores(0.6, 0.5), svm=scores(0.7, 0.6), gru=scores(0.6, 0.55)
    )

    assert list(comparison["architecture"]) == ["svm", "gru", "lstm"]
    assert list(comparison.columns) == ["architecture", *RANK_BY]


def test_architectures_never_evaluated_are_left_out_with_a_warning(caplog):
    with caplog.at_level(logging.WARNING):
        comparison = compare_architectures(RANK_BY, lstm=scores(0.6, 0.5), tcn=None, cnn=None)

    assert list(comparison["architecture"]) == ["lstm"]
    assert "cnn, tcn" in caplog.text
    assert "--namespaces cnn,tcn" in caplog.text


def test_nothing_evaluated_is_an_error():
    with pytest.raises(ValueError, match="run the modelling pipeline first"):
        compare_architectures(RANK_BY, lstm=None)


def test_markdown_table_has_one_ranked_row_per_architecture():
    comparison = compare_architectures(RANK_BY, lstm=scores(0.6, 0.5), svm=scores(0.75, 0.6))

    lines = comparison_markdown(comparison).splitlines()

    assert "| rank | architecture | track_accuracy | track_macro_f1 |" in lines
    assert "| 1 | svm | 0.750 | 0.600 |" in lines
    assert lines[-1] == "| 2 | lstm | 0.600 | 0.500 |"


def test_chart_has_one_bar_per_architecture_and_metric_best_first():
    comparison = compare_architectures(RANK_BY, lstm=scores(0.6, 0.5), svm=scores(0.75, 0.6))

    figure = plot_comparison(comparison, RANK_BY)
    axes = figure.axes[0]

    assert [label.get_text() for label in axes.get_xticklabels()] == ["svm", "lstm"]
    assert len(axes.patches) == 4


def test_reporting_reads_the_metrics_of_every_architecture():
    assert create_pipeline().inputs() == {f"{name}_test_metrics" for name in ARCHITECTURES} | {
        "params:reporting.rank_by",
        "params:reporting.chart_metrics",
    }
