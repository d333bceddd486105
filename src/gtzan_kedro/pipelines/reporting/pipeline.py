"""Wiring of the reporting pipeline: compare every architecture, register the best one."""

from kedro.pipeline import Node, Pipeline

from gtzan_kedro.pipelines.reporting.nodes import (
    choose_champion,
    compare_architectures,
    comparison_markdown,
    plot_comparison,
)
from gtzan_kedro.project_config import configured_architectures


def create_pipeline(**kwargs) -> Pipeline:
    """Tabulate, render and chart the test scores of all architectures; register the best."""
    return Pipeline(
        [
            Node(
                compare_architectures,
                inputs={
                    "reporting": "params:reporting",
                    "architectures": "params:modelling.architectures",
                    "seed": "params:seed",
                    "label_set": "label_set",
                    **{name: f"{name}_track_predictions" for name in configured_architectures()},
                },
                outputs="architecture_comparison",
                name="compare_architectures",
            ),
            Node(
                comparison_markdown,
                inputs=["architecture_comparison", "params:reporting"],
                outputs="architecture_comparison_markdown",
                name="render_comparison",
            ),
            Node(
                plot_comparison,
                inputs=[
                    "architecture_comparison",
                    "params:reporting.chart_metrics",
                    "label_set",
                ],
                outputs="architecture_comparison_chart",
                name="plot_comparison",
            ),
            Node(
                choose_champion,
                inputs=[
                    "architecture_comparison",
                    "current_champion",
                    "track_splits",
                    "label_set",
                    "params:modelling.architectures",
                    "params:reporting.promote_champion",
                ],
                outputs="champion_model",
                name="register_champion",
            ),
        ]
    )
