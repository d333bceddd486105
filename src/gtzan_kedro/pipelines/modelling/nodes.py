"""Nodes of the modelling pipeline: build, train, package and evaluate one architecture."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from sklearn.metrics import ConfusionMatrixDisplay, classification_report, confusion_matrix

from gtzan_kedro.evaluation.statistics import track_scores_with_intervals
from gtzan_kedro.genres import GENRES
from gtzan_kedro.models.frameworks import get_adapter
from gtzan_kedro.models.genre_classifier import GenreClassifier
from gtzan_kedro.pipelines.modelling.architectures import get_architecture, merged_training

logger = logging.getLogger(__name__)

LABELS = list(range(len(GENRES)))
# Keras' names of the per-epoch training metrics, and the names they are logged under.
_HISTORY_NAMES = {"loss": "train_loss", "accuracy": "train_accuracy"}


def build_model(train_examples: np.ndarray, architecture: dict[str, Any], seed: int) -> Any:
    """Build the untrained model for examples shaped like the training ones."""
    registered = get_architecture(architecture["builder"])
    # Seeding here makes an architecture's initial weights independent of which others ran first.
    get_adapter(registered.framework).seed(seed)
    return registered.builder(
        input_shape=tuple(train_examples.shape[1:]), n_classes=len(GENRES), **architecture["model"]
    )


def train_model(  # noqa: PLR0917 - Kedro passes one positional input per dataset
    model: Any,
    train_examples: np.ndarray,
    train_labels: np.ndarray,
    validation_examples: np.ndarray,
    validation_labels: np.ndarray,
    architecture: dict[str, Any],
    training: dict[str, Any],
    seed: int,
) -> tuple[Any, dict[str, list[float]]]:
    """Fit the model on the training split; return it with its per-epoch history."""
    framework = get_architecture(architecture["builder"]).framework
    return get_adapter(framework).fit(
        model,
        (train_examples, train_labels),
        (validation_examples, validation_labels),
        # The block's own values over modelling.training (both checked when the run started).
        merged_training(training, architecture.get("training", {})),
        seed,
    )


def package_classifier(
    model: Any,
    normalisation: dict[str, Any],
    architecture: dict[str, Any],
    name: str,
    **feature_inputs: Any,
) -> GenreClassifier:
    """Bind the trained model to its feature set and statistics: the one model artefact.

    The feature set's recipe is the one feature engineering recorded with the statistics,
    whatever today's parameters say; ``feature_inputs`` are its catalog inputs (weights).
    """
    feature_set = normalisation["feature_set"]
    return GenreClassifier(
        architecture=name,
        builder=architecture["builder"],
        framework=get_architecture(architecture["builder"]).framework,
        feature_set=architecture["features"],
        extractor=feature_set["extractor"],
        feature_params=feature_set.get("params", {}),
        feature_inputs={key: str(value) for key, value in feature_inputs.items()},
        window=feature_set.get("window"),
        normalisation={"mean": normalisation["mean"], "std": normalisation["std"]},
        sample_rate=normalisation["sample_rate"],
        class_names=list(GENRES),
        model=model,
    )


def predict_test_tracks(
    classifier: GenreClassifier,
    track_features: dict[str, Callable[[], np.ndarray]],
    track_splits: pd.DataFrame,
) -> pd.DataFrame:
    """One row per test track: its label, the predicted genre and every genre's probability."""
    tracks = track_splits[track_splits["split"] == "test"]
    probabilities = (
        np.stack(
            [
                classifier.predict_proba_features(track_features[track_id]())[0]
                for track_id in tracks["track_id"]
            ]
        )
        if len(tracks)
        else np.empty((0, len(GENRES)))
    )
    table = pd.DataFrame(probabilities, columns=list(GENRES))
    table.insert(0, "track_id", tracks["track_id"].to_numpy(dtype=str))
    table.insert(1, "label", tracks["label"].to_numpy(dtype=np.int64))
    table.insert(2, "predicted", probabilities.argmax(axis=1) if len(tracks) else [])
    return table


def evaluate(
    track_predictions: pd.DataFrame, bootstrap: dict[str, Any], seed: int
) -> dict[str, float]:
    """Track accuracy and macro F1 with bootstrap intervals; per fold under k-fold."""
    scores = track_scores_with_intervals(
        track_predictions["label"],
        track_predictions["predicted"],
        resamples=bootstrap["resamples"],
        confidence=bootstrap["confidence"],
        seed=seed,
    )
    if "fold" in track_predictions:
        correct = track_predictions["label"] == track_predictions["predicted"]
        per_fold = correct.groupby(track_predictions["fold"]).mean()
        scores |= {f"fold_{fold}_track_accuracy": float(value) for fold, value in per_fold.items()}
        scores |= {
            "fold_track_accuracy_mean": float(per_fold.mean()),
            "fold_track_accuracy_std": float(per_fold.std(ddof=1)),
        }
    logger.info(
        "Test track accuracy %.3f [%.3f, %.3f] on %d tracks.",
        scores["track_accuracy"],
        scores["track_accuracy_ci_low"],
        scores["track_accuracy_ci_high"],
        len(track_predictions),
    )
    return scores


def classification_report_table(track_predictions: pd.DataFrame) -> pd.DataFrame:
    """Precision, recall, F1 and support of each genre over the test tracks."""
    report = classification_report(
        track_predictions["label"],
        track_predictions["predicted"],
        labels=LABELS,
        target_names=GENRES,
        output_dict=True,
        zero_division=0,
    )
    report.pop("accuracy", None)  # a scalar, already among the metrics
    table = pd.DataFrame(report).T.rename_axis("genre").reset_index()
    table = table.rename(columns={"f1-score": "f1"})[
        ["genre", "precision", "recall", "f1", "support"]
    ]
    return table.astype({"support": int})


def plot_confusion_matrix(track_predictions: pd.DataFrame) -> Figure:
    """Track-level confusion matrix of the test split, genre names on both axes."""
    matrix = confusion_matrix(
        track_predictions["label"], track_predictions["predicted"], labels=LABELS
    )
    figure = Figure(figsize=(8, 7))
    axes = figure.subplots()
    ConfusionMatrixDisplay(matrix, display_labels=GENRES).plot(
        ax=axes, cmap="Blues", colorbar=False, xticks_rotation=45
    )
    axes.set_title("Test tracks: true genre against predicted genre")
    figure.tight_layout()
    return figure


def plot_training_curves(history: dict[str, list[float]]) -> Figure:
    """Loss and accuracy per epoch on the training and validation splits."""
    figure = Figure(figsize=(11, 4))
    loss_axes, accuracy_axes = figure.subplots(1, 2)
    if not history:
        figure.text(
            0.5, 0.5, "Fitted in one step: no training epochs to plot.", ha="center", va="center"
        )
        loss_axes.set_axis_off()
        accuracy_axes.set_axis_off()
        return figure
    epochs = np.arange(1, len(history["loss"]) + 1)
    for axes, metric in ((loss_axes, "loss"), (accuracy_axes, "accuracy")):
        axes.plot(epochs, history[metric], marker="o", label="train")
        axes.plot(epochs, history[f"val_{metric}"], marker="o", label="validation")
        axes.set(xlabel="epoch", ylabel=metric, title=metric.capitalize())
        axes.legend()
    figure.tight_layout()
    return figure


def combine_folds(*fold_predictions: pd.DataFrame) -> pd.DataFrame:
    """The out-of-fold predictions of every fold in one table, with a ``fold`` column."""
    return pd.concat(
        [table.assign(fold=fold) for fold, table in enumerate(fold_predictions, start=1)],
        ignore_index=True,
    )


def score_metrics(metrics: dict[str, float]) -> dict[str, dict[str, float]]:
    """Evaluation scores as single MLflow metrics."""
    return {name: {"value": value, "step": 0} for name, value in metrics.items()}


def history_metrics(history: dict[str, list[float]]) -> dict[str, Any]:
    """The training history as MLflow metric steps, one per epoch."""
    logged: dict[str, Any] = {
        _HISTORY_NAMES.get(name, name): [
            {"value": value, "step": epoch} for epoch, value in enumerate(values, start=1)
        ]
        for name, values in history.items()
    }
    if history:
        logged["epochs_trained"] = {"value": len(history["loss"]), "step": 0}
    return logged
