"""Nodes of the modelling pipeline: build, train, predict and evaluate one architecture."""

from __future__ import annotations

import logging
import sys
from typing import Any

import keras
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from sklearn.metrics import (
    ConfusionMatrixDisplay,
    accuracy_score,
    classification_report,
    confusion_matrix,
    precision_recall_fscore_support,
)

from gtzan_kedro.genres import GENRES
from gtzan_kedro.pipelines.modelling.architectures import get_builder

logger = logging.getLogger(__name__)

LABELS = list(range(len(GENRES)))
# Keras' names of the per-epoch training metrics, and the names they are logged under.
_HISTORY_NAMES = {"loss": "train_loss", "accuracy": "train_accuracy"}


def build_model(
    train_sequences: np.ndarray, architecture: str, model: dict[str, Any], seed: int
) -> Any:
    """Build the untrained ``architecture`` for sequences shaped like the training ones."""
    # Seeding here makes an architecture's initial weights independent of which others ran first.
    keras.utils.set_random_seed(seed)
    built = get_builder(architecture)(
        input_shape=tuple(train_sequences.shape[1:]), n_classes=len(GENRES), **model
    )
    if isinstance(built, keras.Model):
        logger.info("Built '%s': %d parameters.", architecture, built.count_params())
    return built


def train_model(  # noqa: PLR0917 - Kedro passes one positional input per dataset
    model: Any,
    train_sequences: np.ndarray,
    train_labels: np.ndarray,
    validation_sequences: np.ndarray,
    validation_labels: np.ndarray,
    training: dict[str, Any],
    seed: int,
) -> tuple[Any, dict[str, list[float]]]:
    """Fit the model on the training split; return it with its per-epoch history."""
    keras.utils.set_random_seed(seed)
    if not isinstance(model, keras.Model):
        # A scikit-learn estimator fits in one step: no epochs, so no history.
        return model.fit(np.asarray(train_sequences), train_labels), {}
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=training["learning_rate"]),
        loss=keras.losses.SparseCategoricalCrossentropy(),
        metrics=["accuracy"],
    )
    early_stopping = keras.callbacks.EarlyStopping(
        monitor="val_loss", patience=training["early_stopping_patience"], restore_best_weights=True
    )
    history = model.fit(
        train_sequences,
        train_labels,
        validation_data=(validation_sequences, validation_labels),
        epochs=training["epochs"],
        batch_size=training["batch_size"],
        callbacks=[early_stopping],
        verbose=_fit_verbosity(),
    )
    epochs = {name: [float(value) for value in values] for name, values in history.history.items()}
    best_epoch = int(np.argmin(epochs["val_loss"])) + 1
    logger.info(
        "Trained %d epochs; kept the weights of epoch %d.", len(epochs["val_loss"]), best_epoch
    )
    return model, epochs


def _fit_verbosity() -> int:
    """Keras' progress bar on a terminal, one line per epoch otherwise (CI logs)."""
    return 1 if sys.stdout.isatty() else 2


def predict_probabilities(model: Any, sequences: np.ndarray) -> np.ndarray:
    """Class probabilities ``(n, n_genres)`` of each sequence."""
    if isinstance(model, keras.Model):
        return model.predict(sequences, verbose=0).astype(np.float32)
    probabilities = np.zeros((len(sequences), len(GENRES)), dtype=np.float32)
    # An estimator only has columns for the classes it saw in training.
    probabilities[:, model.classes_] = model.predict_proba(np.asarray(sequences))
    return probabilities


def aggregate_by_track(
    probabilities: np.ndarray, labels: np.ndarray, track_ids: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Average the sequence probabilities of each track; return them with each track's label."""
    tracks, track_index = np.unique(np.asarray(track_ids), return_inverse=True)
    sums = np.zeros((len(tracks), probabilities.shape[1]))
    np.add.at(sums, track_index, probabilities)
    track_probabilities = sums / np.bincount(track_index)[:, None]
    track_labels = np.zeros(len(tracks), dtype=np.int64)
    track_labels[track_index] = labels
    if np.any(track_labels[track_index] != labels):
        raise ValueError("Some track has sequences with different labels.")
    return track_probabilities, track_labels


def classification_scores(labels: np.ndarray, predictions: np.ndarray) -> dict[str, float]:
    """Accuracy and macro-averaged precision, recall and F1."""
    precision, recall, f1, _ = precision_recall_fscore_support(
        labels, predictions, average="macro", zero_division=0
    )
    return {
        "accuracy": float(accuracy_score(labels, predictions)),
        "macro_precision": float(precision),
        "macro_recall": float(recall),
        "macro_f1": float(f1),
    }


def evaluate(
    probabilities: np.ndarray, labels: np.ndarray, track_ids: np.ndarray
) -> dict[str, float]:
    """Scores per sequence and per track (sequence probabilities averaged over each track)."""
    track_probabilities, track_labels = aggregate_by_track(probabilities, labels, track_ids)
    sequence_scores = classification_scores(labels, probabilities.argmax(axis=1))
    track_scores = classification_scores(track_labels, track_probabilities.argmax(axis=1))
    logger.info(
        "Test accuracy: %.3f per track, %.3f per sequence.",
        track_scores["accuracy"],
        sequence_scores["accuracy"],
    )
    return {f"track_{name}": value for name, value in track_scores.items()} | {
        f"sequence_{name}": value for name, value in sequence_scores.items()
    }


def classification_report_table(
    probabilities: np.ndarray, labels: np.ndarray, track_ids: np.ndarray
) -> pd.DataFrame:
    """Precision, recall, F1 and support of each genre, per track and per sequence."""
    track_probabilities, track_labels = aggregate_by_track(probabilities, labels, track_ids)
    levels = {
        "track": (track_labels, track_probabilities.argmax(axis=1)),
        "sequence": (labels, probabilities.argmax(axis=1)),
    }
    tables = []
    for level, (truth, predicted) in levels.items():
        report = classification_report(
            truth, predicted, labels=LABELS, target_names=GENRES, output_dict=True, zero_division=0
        )
        report.pop("accuracy", None)  # a scalar, already among the metrics
        table = pd.DataFrame(report).T.rename_axis("genre").reset_index()
        tables.append(table.assign(level=level))
    columns = ["level", "genre", "precision", "recall", "f1-score", "support"]
    report = pd.concat(tables, ignore_index=True)[columns].rename(columns={"f1-score": "f1"})
    return report.astype({"support": int})


def plot_confusion_matrix(
    probabilities: np.ndarray, labels: np.ndarray, track_ids: np.ndarray
) -> Figure:
    """Track-level confusion matrix of the test split, genre names on both axes."""
    track_probabilities, track_labels = aggregate_by_track(probabilities, labels, track_ids)
    matrix = confusion_matrix(track_labels, track_probabilities.argmax(axis=1), labels=LABELS)
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


def mlflow_metrics(
    metrics: dict[str, float], history: dict[str, list[float]]
) -> dict[str, dict[str, float] | list[dict[str, float]]]:
    """Evaluation scores as single MLflow metrics and the training history as metric steps."""
    logged: dict[str, Any] = {name: {"value": value, "step": 0} for name, value in metrics.items()}
    for name, values in history.items():
        logged[_HISTORY_NAMES.get(name, name)] = [
            {"value": value, "step": epoch} for epoch, value in enumerate(values, start=1)
        ]
    if history:
        logged["epochs_trained"] = {"value": len(history["loss"]), "step": 0}
    return logged
