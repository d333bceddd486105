"""Wiring of the reporting pipeline: compare every architecture, register the best one.

After cross-validation (unless ``reporting.refit`` is false) the best architecture is trained
once more on all tracks, and that model is the one registered.
"""

from kedro.pipeline import Node, Pipeline

from gtzan_kedro.pipelines.reporting.nodes import (
    REFIT_DATA,
    choose_champion,
    compare_architectures,
    comparison_markdown,
    describe_pretrained_inputs,
    plot_comparison,
    plot_representation_map,
    refit_best_architecture,
)
from gtzan_kedro.project_config import (
    REFIT,
    configured_architectures,
    configured_feature_sets,
    feature_set_inputs,
    refit_after_cross_validation,
)


def _track_predictions() -> dict[str, str]:
    """Every architecture's test track predictions, by their dataset names."""
    return {
        f"{name}_track_predictions": f"{name}_track_predictions"
        for name in configured_architectures()
    }


def _pretrained_inputs() -> dict[str, str]:
    """``<feature set>.<argument>``: the catalog dataset of each feature set's extractor input."""
    return {
        f"{feature_set}.{argument}": dataset
        for feature_set in configured_feature_sets()
        for argument, dataset in feature_set_inputs(feature_set).items()
    }


def _refit_nodes() -> list[Node]:
    """Train the best architecture again on all tracks (examples of the refit namespace)."""
    return [
        Node(
            refit_best_architecture,
            inputs={
                "comparison": "architecture_comparison",
                "architectures": "params:modelling.architectures",
                "training": "params:modelling.training",
                "label_set": "label_set",
                "seed": "params:seed",
                **{
                    f"{feature_set}.{name}": f"{feature_set}.{REFIT}.{name}"
                    for feature_set in configured_feature_sets()
                    for name in REFIT_DATA
                },
                **_pretrained_inputs(),
            },
            outputs=["refit_genre_classifier", "refit_summary"],
            name="refit_best_architecture",
        )
    ]


def create_pipeline(**kwargs) -> Pipeline:
    """Tabulate, render and chart the test scores of all architectures; register the best."""
    refit = refit_after_cross_validation()
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
                plot_representation_map,
                inputs={
                    "comparison": "architecture_comparison",
                    "architectures": "params:modelling.architectures",
                    "feature_sets": "params:feature_engineering.feature_sets",
                    "seed": "params:seed",
                    **_track_predictions(),
                    **{
                        f"{feature_set}.track_features": f"{feature_set}.track_features"
                        for feature_set in configured_feature_sets()
                    },
                },
                outputs="representation_map",
                name="plot_representation_map",
            ),
            Node(
                describe_pretrained_inputs,
                inputs=_pretrained_inputs(),
                outputs="pretrained_inputs",
                name="describe_pretrained_inputs",
            ),
            *(_refit_nodes() if refit else []),
            Node(
                choose_champion,
                inputs={
                    "comparison": "architecture_comparison",
                    "current_champion": "current_champion",
                    "track_splits": "track_splits",
                    "label_set": "label_set",
                    "architectures": "params:modelling.architectures",
                    "feature_engineering": "params:feature_engineering",
                    "pretrained_inputs": "pretrained_inputs",
                    "promote": "params:reporting.promote_champion",
                    **({"refit": "refit_summary"} if refit else {}),
                    **_track_predictions(),
                },
                outputs="champion_model",
                name="register_champion",
            ),
        ]
    )
