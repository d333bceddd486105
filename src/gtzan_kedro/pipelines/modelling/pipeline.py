"""Wiring of the modelling pipeline: one build -> train -> package -> evaluate per architecture."""

from functools import partial, update_wrapper

from kedro.pipeline import Node, Pipeline

from gtzan_kedro.pipelines.modelling.nodes import (
    build_model,
    classification_report_table,
    evaluate,
    mlflow_metrics,
    package_classifier,
    plot_confusion_matrix,
    plot_training_curves,
    predict_test_tracks,
    train_model,
)
from gtzan_kedro.project_config import configured_architectures

# What an architecture reads from its feature set's namespace, by the template's names.
FEATURE_SET_INPUTS = (
    "train_examples",
    "train_labels",
    "validation_examples",
    "validation_labels",
    "track_features",
    "normalisation",
)


def create_template(name: str) -> Pipeline:
    """Build, train, package and evaluate architecture ``name``; namespaced by the caller."""
    package = update_wrapper(partial(package_classifier, name=name), package_classifier)
    return Pipeline(
        [
            Node(
                build_model,
                inputs=["train_examples", "params:architecture", "params:seed"],
                outputs="untrained_model",
                name="build_model",
            ),
            Node(
                train_model,
                inputs=[
                    "untrained_model",
                    "train_examples",
                    "train_labels",
                    "validation_examples",
                    "validation_labels",
                    "params:architecture",
                    "params:modelling.training",
                    "params:seed",
                ],
                outputs=["trained_model", "training_history"],
                name="train_model",
            ),
            Node(
                package,
                inputs=[
                    "trained_model",
                    "normalisation",
                    "params:architecture",
                    "params:feature_set",
                    "params:sample_rate",
                ],
                outputs="genre_classifier",
                name="package_classifier",
            ),
            Node(
                predict_test_tracks,
                inputs=["genre_classifier", "track_features", "track_splits"],
                outputs="track_predictions",
                name="predict_test_tracks",
            ),
            Node(
                evaluate,
                inputs=["track_predictions", "params:seed"],
                outputs="metrics",
                name="evaluate",
            ),
            Node(
                classification_report_table,
                inputs="track_predictions",
                outputs="classification_report",
                name="report_per_genre",
            ),
            Node(
                plot_confusion_matrix,
                inputs="track_predictions",
                outputs="confusion_matrix",
                name="plot_confusion_matrix",
            ),
            Node(
                plot_training_curves,
                inputs="training_history",
                outputs="training_curves",
                name="plot_training_curves",
            ),
            Node(
                mlflow_metrics,
                inputs=["metrics", "training_history"],
                outputs="mlflow_metrics",
                name="log_metrics",
            ),
        ]
    )


def create_pipeline(**kwargs) -> Pipeline:
    """One namespaced copy of the template per configured architecture.

    Each copy reads its feature set's examples and statistics, and exposes its test track
    predictions and metrics outside its namespace for the reporting pipeline.
    """
    return sum(
        (
            Pipeline(
                create_template(architecture),
                namespace=architecture,
                inputs={
                    "track_splits": "track_splits",
                    **{name: f"{feature_set}.{name}" for name in FEATURE_SET_INPUTS},
                },
                outputs={
                    "track_predictions": f"{architecture}_track_predictions",
                    "metrics": f"{architecture}_test_metrics",
                },
                parameters={
                    "params:architecture": f"params:modelling.architectures.{architecture}",
                    "params:feature_set": f"params:feature_engineering.feature_sets.{feature_set}",
                    "params:modelling.training": "params:modelling.training",
                    "params:sample_rate": "params:sample_rate",
                    "params:seed": "params:seed",
                },
            )
            for architecture, feature_set in configured_architectures().items()
        ),
        start=Pipeline([]),
    )
