"""Wiring of the reporting pipeline: one comparison of every architecture's metrics."""

from kedro.pipeline import Node, Pipeline

from gtzan_kedro.pipelines.modelling.architectures import ARCHITECTURES
from gtzan_kedro.pipelines.reporting.nodes import (
    compare_architectures,
    comparison_markdown,
    plot_comparison,
)


def create_pipeline(**kwargs) -> Pipeline:
    """Tabulate, render and chart the test scores of all architectures, best first."""
    return Pipeline(
        [
            Node(
                compare_architectures,
                inputs={
                    "rank_by": "params:reporting.rank_by",
                    **{
                        architecture: f"{architecture}_test_metrics"
                        for architecture in ARCHITECTURES
                    },
                },
                outputs="architecture_comparison",
                name="compare_architectures",
            ),
            Node(
                comparison_markdown,
                inputs="architecture_comparison",
                outputs="architecture_comparison_markdown",
                name="render_comparison",
            ),
            Node(
                plot_comparison,
                inputs=["architecture_comparison", "params:reporting.chart_metrics"],
                outputs="architecture_comparison_chart",
                name="plot_comparison",
            ),
        ]
    )
