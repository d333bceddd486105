"""Wiring of the modelling pipeline: build -> train -> calibrate -> package -> evaluate -> publish.

A trained model is packaged as a candidate (logged to the MLflow run); it replaces the
architecture's model in ``data/06_models/<arch>`` only once its evaluation succeeded.

With cross-validation each architecture trains one model per fold (``lstm.fold_2``), each
predicting its own fold's test tracks; ``combine_folds`` puts the out-of-fold predictions
together, so every track is predicted exactly once and evaluated once.
"""

from functools import partial, update_wrapper

from kedro.pipeline import Node, Pipeline

from gtzan_kedro.pipelines.feature_engineering.pipeline import fold_splits
from gtzan_kedro.pipelines.modelling.nodes import (
    build_model,
    calibrate_model,
    classification_report_table,
    combine_folds,
    evaluate,
    history_metrics,
    package_classifier,
    plot_confusion_matrix,
    plot_reliability,
    plot_training_curves,
    predict_test_tracks,
    publish_classifier,
    score_metrics,
    train_model,
)
from gtzan_kedro.project_config import (
    configured_architectures,
    configured_folds,
    feature_set_inputs,
    scoped,
)

# What an architecture reads from its feature set's namespace (per fold), by the template's
# names.
FOLD_INPUTS = (
    "train_examples",
    "train_labels",
    "train_track_ids",
    "validation_examples",
    "validation_labels",
    "validation_track_ids",
    "normalisation",
)


def create_training_template(name: str, feature_inputs: dict[str, str], namespace: str) -> Pipeline:
    """Build, train, calibrate and package architecture ``name``; predict its test tracks.

    ``feature_inputs`` are its feature set's catalog inputs, packaged with the model;
    ``namespace`` (``lstm.fold_2``) names the training's progress lines.
    """
    package = update_wrapper(partial(package_classifier, name=name), package_classifier)
    train = update_wrapper(partial(train_model, name=namespace), train_model)
    return Pipeline(
        [
            Node(
                build_model,
                inputs=[
                    "train_examples",
                    "normalisation",
                    "label_set",
                    "params:architecture",
                    "params:seed",
                ],
                outputs="untrained_model",
                name="build_model",
            ),
            Node(
                train,
                inputs=[
                    "untrained_model",
                    "train_examples",
                    "train_labels",
                    "train_track_ids",
                    "validation_examples",
                    "validation_labels",
                    "normalisation",
                    "params:architecture",
                    "params:modelling.training",
                    "params:seed",
                ],
                outputs=["trained_model", "training_history"],
                name="train_model",
            ),
            Node(
                calibrate_model,
                inputs=[
                    "trained_model",
                    "validation_examples",
                    "validation_labels",
                    "validation_track_ids",
                    "label_set",
                    "params:architecture",
                    "params:modelling.training",
                ],
                outputs="temperature",
                name="calibrate_model",
            ),
            Node(
                package,
                inputs={
                    "model": "trained_model",
                    "normalisation": "normalisation",
                    "architecture": "params:architecture",
                    "temperature": "temperature",
                    **feature_inputs,
                },
                outputs="candidate_classifier",
                name="package_classifier",
            ),
            Node(
                predict_test_tracks,
                inputs=["candidate_classifier", "track_features", "track_splits"],
                outputs="track_predictions",
                name="predict_test_tracks",
            ),
            Node(
                publish_classifier,
                inputs=["candidate_classifier", "metrics"],
                outputs="genre_classifier",
                name="publish_classifier",
            ),
            Node(
                plot_training_curves,
                inputs="training_history",
                outputs="training_curves",
                name="plot_training_curves",
            ),
            Node(
                history_metrics,
                inputs="training_history",
                outputs="history_metrics",
                name="log_training_history",
            ),
        ]
    )


def create_evaluation_template() -> Pipeline:
    """Score an architecture's test track predictions (every track once, out of fold)."""
    return Pipeline(
        [
            Node(
                evaluate,
                inputs=["track_predictions", "params:reporting.bootstrap", "params:seed"],
                outputs="metrics",
                name="evaluate",
            ),
            Node(
                classification_report_table,
                inputs=["track_predictions", "label_set"],
                outputs="classification_report",
                name="report_per_genre",
            ),
            Node(
                plot_confusion_matrix,
                inputs=["track_predictions", "label_set"],
                outputs="confusion_matrix",
                name="plot_confusion_matrix",
            ),
            Node(
                plot_reliability,
                inputs="track_predictions",
                outputs="reliability",
                name="plot_reliability",
            ),
            Node(
                score_metrics,
                inputs="metrics",
                outputs="mlflow_metrics",
                name="log_metrics",
            ),
        ]
    )


def _architecture_pipeline(architecture: str, feature_set: str) -> Pipeline:
    """Train ``architecture`` once per fold (once for a holdout split), then evaluate it."""
    parameters = {
        "params:architecture": f"params:modelling.architectures.{architecture}",
        "params:modelling.training": "params:modelling.training",
        "params:seed": "params:seed",
    }
    predictions = f"{architecture}_track_predictions"
    folds = configured_folds()
    feature_inputs = feature_set_inputs(feature_set)
    training = sum(
        (
            Pipeline(
                create_training_template(architecture, feature_inputs, scoped(architecture, fold)),
                namespace=scoped(architecture, fold),
                inputs={
                    **{name: name for name in feature_inputs.values()},
                    "label_set": "label_set",
                    "track_splits": fold_splits(fold),
                    "track_features": f"{feature_set}.track_features",
                    # Evaluated on every fold's predictions: each fold's model waits for it.
                    "metrics": f"{architecture}_test_metrics",
                    **{name: f"{scoped(feature_set, fold)}.{name}" for name in FOLD_INPUTS},
                },
                outputs={} if fold else {"track_predictions": predictions},
                parameters=parameters,
            )
            for fold in folds
        ),
        start=Pipeline([]),
    )
    if folds != [""]:
        fold_predictions = [f"{architecture}.{fold}.track_predictions" for fold in folds]
        training += Pipeline(
            [
                Node(
                    combine_folds,
                    inputs=fold_predictions,
                    outputs=predictions,
                    name="combine_folds",
                )
            ],
            namespace=architecture,
            inputs=set(fold_predictions),
            outputs={predictions},
        )
    return training + Pipeline(
        create_evaluation_template(),
        namespace=architecture,
        inputs={"track_predictions": predictions, "label_set": "label_set"},
        outputs={"metrics": f"{architecture}_test_metrics"},
        parameters={"params:seed", "params:reporting.bootstrap"},
    )


def create_pipeline(**kwargs) -> Pipeline:
    """One namespace per configured architecture (and one inside it per fold).

    Each reads its feature set's examples and statistics, and exposes its test track
    predictions and metrics outside its namespace for the reporting pipeline.
    """
    return sum(
        (
            _architecture_pipeline(architecture, feature_set)
            for architecture, feature_set in configured_architectures().items()
        ),
        start=Pipeline([]),
    )
