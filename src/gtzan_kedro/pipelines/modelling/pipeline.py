"""Wiring of the modelling pipeline: one build -> train -> evaluate template per architecture."""

from kedro.pipeline import Node, Pipeline

from gtzan_kedro.pipelines.modelling.architectures import ARCHITECTURES
from gtzan_kedro.pipelines.modelling.nodes import (
    build_model,
    classification_report_table,
    evaluate,
    mlflow_metrics,
    plot_confusion_matrix,
    plot_training_curves,
    predict_probabilities,
    train_model,
)

# Feature datasets every architecture reads under their own, un-namespaced names.
SHARED_INPUTS = {
    "train_sequences",
    "train_labels",
    "validation_sequences",
    "validation_labels",
    "test_sequences",
    "test_labels",
    "test_track_ids",
}


def create_template() -> Pipeline:
    """Build, train and evaluate one architecture; names are namespaced by the caller."""
    return Pipeline(
        [
            Node(
                build_model,
                inputs=["train_sequences", "params:architecture", "params:model", "params:seed"],
                outputs="untrained_model",
                name="build_model",
            ),
            Node(
                train_model,
                inputs=[
                    "untrained_model",
                    "train_sequences",
                    "train_labels",
                    "validation_sequences",
                    "validation_labels",
                    "params:training",
                    "params:seed",
                ],
                outputs=["model", "training_history"],
                name="train_model",
            ),
            Node(
                predict_probabilities,
                inputs=["model", "test_sequences"],
                outputs="test_probabilities",
                name="predict_test_split",
            ),
            Node(
                evaluate,
                inputs=["test_probabilities", "test_labels", "test_track_ids"],
                outputs="metrics",
                name="evaluate",
            ),
            Node(
                classification_report_table,
                inputs=["test_probabilities", "test_labels", "test_track_ids"],
                outputs="classification_report",
                name="report_per_genre",
            ),
            Node(
                plot_confusion_matrix,
                inputs=["test_probabilities", "test_labels", "test_track_ids"],
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
    """One namespaced copy of the template per registered architecture.

    Each copy reads the shared features and seed, and exposes its test metrics outside its
    namespace as ``<architecture>_test_metrics`` for the reporting pipeline.
    """
    template = create_template()
    return sum(
        (
            Pipeline(
                template,
                namespace=architecture,
                inputs=SHARED_INPUTS,
                outputs={"metrics": f"{architecture}_test_metrics"},
                parameters={"params:seed"},
            )
            for architecture in ARCHITECTURES
        ),
        start=Pipeline([]),
    )
