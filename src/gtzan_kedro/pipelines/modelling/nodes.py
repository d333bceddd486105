"""Nodes of the modelling pipeline: build, train, package and evaluate one architecture."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from sklearn.metrics import ConfusionMatrixDisplay, classification_report, confusion_matrix

from gtzan_kedro.errors import InputError
from gtzan_kedro.evaluation.calibration import (
    N_BINS,
    brier_score,
    calibration_scores,
    class_probabilities,
    expected_calibration_error,
    reliability_table,
)
from gtzan_kedro.evaluation.statistics import track_scores_with_intervals
from gtzan_kedro.labels import check_same_labels
from gtzan_kedro.models.architectures import get_architecture, merged_training
from gtzan_kedro.models.augmentation import crop_partners
from gtzan_kedro.models.calibration import fit_temperature, track_nll
from gtzan_kedro.models.frameworks import get_adapter
from gtzan_kedro.models.genre_classifier import GenreClassifier
from gtzan_kedro.project_config import feature_set_of

logger = logging.getLogger(__name__)

# Keras' names of the per-epoch training metrics, and the names they are logged under.
_HISTORY_NAMES = {"loss": "train_loss", "accuracy": "train_accuracy"}


def build_model(
    train_examples: np.ndarray,
    normalisation: dict[str, Any],
    label_set: dict[str, Any],
    architecture: dict[str, Any],
    seed: int,
) -> Any:
    """Build the untrained model for examples shaped like the training ones, one class a label.

    Examples cut for another label set (the raw folder switched collections since feature
    engineering last ran) are refused rather than trained on.
    """
    check_same_labels(
        normalisation.get("labels", []),
        label_set["labels"],
        f"The model input of feature set '{architecture['features']}'",
        "run feature engineering again (`kedro run --pipeline feature_engineering`)",
    )
    registered = get_architecture(architecture["builder"])
    # Seeded here, one model at a time: an architecture's initial weights do not depend on which
    # others ran first or train beside it.
    with get_adapter(registered.framework).seeded(seed):
        return registered.builder(
            input_shape=tuple(train_examples.shape[1:]),
            n_classes=len(label_set["labels"]),
            **architecture["model"],
        )


def train_model(  # noqa: PLR0913, PLR0917 - Kedro passes one positional input per dataset
    model: Any,
    train_examples: np.ndarray,
    train_labels: np.ndarray,
    train_track_ids: np.ndarray,
    validation_examples: np.ndarray,
    validation_labels: np.ndarray,
    normalisation: dict[str, Any],
    architecture: dict[str, Any],
    training: dict[str, Any],
    seed: int,
    name: str = "model",
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
        # The windows feature engineering cut, as recorded with the statistics.
        crops=crop_partners(train_track_ids, normalisation["feature_set"].get("window")),
        name=name,
    )


def calibrate_model(  # noqa: PLR0913, PLR0917 - Kedro passes one positional input per dataset
    model: Any,
    validation_examples: np.ndarray,
    validation_labels: np.ndarray,
    validation_track_ids: np.ndarray,
    label_set: dict[str, Any],
    architecture: dict[str, Any],
    training: dict[str, Any],
) -> float:
    """The temperature that calibrates the model's track probabilities on the validation tracks.

    1 (no change) when ``modelling.training.calibrate`` is false or there are no validation
    tracks.
    """
    if not (training | architecture.get("training", {})).get("calibrate", True):
        return 1.0
    if not len(validation_labels):
        logger.warning("No validation tracks to calibrate on: the temperature stays 1.")
        return 1.0
    framework = get_architecture(architecture["builder"]).framework
    probabilities = get_adapter(framework).predict_proba(
        model, validation_examples, len(label_set["labels"])
    )
    temperature = fit_temperature(probabilities, validation_labels, validation_track_ids)
    logger.info(
        "Temperature %.3f: validation track NLL %.4f -> %.4f on %d tracks.",
        temperature,
        track_nll(probabilities, validation_labels, validation_track_ids),
        track_nll(probabilities, validation_labels, validation_track_ids, temperature),
        len(np.unique(validation_track_ids)),
    )
    return temperature


def package_classifier(  # noqa: PLR0913 - the model, its inputs and its name
    model: Any,
    normalisation: dict[str, Any],
    architecture: dict[str, Any],
    name: str,
    temperature: float = 1.0,
    **feature_inputs: Any,
) -> GenreClassifier:
    """Bind the trained model to its feature set and statistics: the one model artefact.

    The feature set's recipe and the labels are those feature engineering recorded with the
    statistics, whatever today's parameters say; ``feature_inputs`` are its catalog inputs.
    """
    feature_set = normalisation["feature_set"]
    return GenreClassifier(
        architecture=name,
        builder=architecture["builder"],
        framework=get_architecture(architecture["builder"]).framework,
        feature_set=feature_set_of(architecture),
        extractor=feature_set["extractor"],
        feature_params=feature_set.get("params", {}),
        feature_inputs={key: str(value) for key, value in feature_inputs.items()},
        window=feature_set.get("window"),
        normalisation={"mean": normalisation["mean"], "std": normalisation["std"]},
        sample_rate=normalisation["sample_rate"],
        class_names=list(normalisation["labels"]),
        model=model,
        temperature=temperature,
    )


def publish_classifier(classifier: GenreClassifier, metrics: dict[str, Any]) -> GenreClassifier:
    """The trained classifier, handed on only once its evaluation (``metrics``) succeeded."""
    return classifier


def check_holdout_splits(track_splits: pd.DataFrame) -> None:
    """Refuse the fold table of a cross-validation feature run where splits are expected."""
    if "split" not in track_splits and "fold" in track_splits:
        raise InputError(
            "The track splits (data/03_primary/track_splits.parquet) are the folds of a "
            "cross-validation feature run, while this run expects a holdout split: run "
            "modelling with the same split (--params feature_engineering.split.strategy=kfold), "
            "or run `kedro run --pipelines feature_engineering,modelling` for a holdout split."
        )


def predict_test_tracks(
    classifier: GenreClassifier,
    track_features: dict[str, Callable[[], np.ndarray]],
    track_splits: pd.DataFrame,
) -> pd.DataFrame:
    """One row per test track: its label, the predicted label and every label's probability."""
    check_holdout_splits(track_splits)
    tracks = track_splits[track_splits["split"] == "test"]
    probabilities = classifier.predict_proba_tracks(
        track_features[track_id]() for track_id in tracks["track_id"]
    )
    table = pd.DataFrame(probabilities, columns=list(classifier.class_names))
    table.insert(0, "track_id", tracks["track_id"].to_numpy(dtype=str))
    table.insert(1, "label", tracks["label"].to_numpy(dtype=np.int64))
    table.insert(2, "predicted", probabilities.argmax(axis=1))
    return table


def evaluate(
    track_predictions: pd.DataFrame, bootstrap: dict[str, Any], seed: int
) -> dict[str, float]:
    """Track accuracy, macro F1 and ECE with bootstrap intervals, Brier; per fold under k-fold."""
    intervals = {
        "resamples": bootstrap["resamples"],
        "confidence": bootstrap["confidence"],
        "seed": seed,
    }
    scores = track_scores_with_intervals(
        track_predictions["label"], track_predictions["predicted"], **intervals
    )
    scores |= calibration_scores(
        track_predictions["label"], class_probabilities(track_predictions), **intervals
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
        "Test track accuracy %.3f [%.3f, %.3f], ECE %.3f, Brier %.3f on %d tracks.",
        scores["track_accuracy"],
        scores["track_accuracy_ci_low"],
        scores["track_accuracy_ci_high"],
        scores["track_ece"],
        scores["track_brier"],
        len(track_predictions),
    )
    return scores


def classification_report_table(
    track_predictions: pd.DataFrame, label_set: dict[str, Any]
) -> pd.DataFrame:
    """Precision, recall, F1 and support of each label over the test tracks."""
    labels = label_set["labels"]
    report = classification_report(
        track_predictions["label"],
        track_predictions["predicted"],
        labels=list(range(len(labels))),
        target_names=labels,
        output_dict=True,
        zero_division=0,
    )
    report.pop("accuracy", None)  # a scalar, already among the metrics
    table = pd.DataFrame(report).T.rename_axis("genre").reset_index()
    table = table.rename(columns={"f1-score": "f1"})[
        ["genre", "precision", "recall", "f1", "support"]
    ]
    return table.astype({"support": int})


def plot_confusion_matrix(track_predictions: pd.DataFrame, label_set: dict[str, Any]) -> Figure:
    """Track-level confusion matrix of the test split, label names on both axes."""
    labels = label_set["labels"]
    matrix = confusion_matrix(
        track_predictions["label"], track_predictions["predicted"], labels=range(len(labels))
    )
    size = max(6, 0.6 * len(labels) + 1)
    figure = Figure(figsize=(size + 1, size))
    axes = figure.subplots()
    ConfusionMatrixDisplay(matrix, display_labels=labels).plot(
        ax=axes, cmap="Blues", colorbar=False, xticks_rotation=45
    )
    axes.set(xlabel="predicted label", ylabel="true label")
    axes.set_title("Test tracks: true label against predicted label")
    figure.tight_layout()
    return figure


def plot_reliability(track_predictions: pd.DataFrame) -> Figure:
    """Reliability diagram: each confidence bin's accuracy against its mean confidence."""
    labels, probabilities = track_predictions["label"], class_probabilities(track_predictions)
    bins = reliability_table(labels, probabilities, N_BINS)
    figure = Figure(figsize=(6, 7))
    reliability_axes, count_axes = figure.subplots(
        2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 1]}
    )
    width = 1 / N_BINS
    reliability_axes.bar(
        bins["bin_low"],
        bins["accuracy"].fillna(0),
        width,
        align="edge",
        label="accuracy",
        edgecolor="black",
        linewidth=0.5,
    )
    reliability_axes.bar(
        bins["bin_low"],
        (bins["confidence"] - bins["accuracy"]).fillna(0),
        width,
        bottom=bins["accuracy"].fillna(0),
        align="edge",
        color="tab:red",
        alpha=0.3,
        label="gap to confidence",
    )
    reliability_axes.plot([0, 1], [0, 1], color="grey", linestyle="--", label="calibrated")
    reliability_axes.set(
        ylim=(0, 1),
        ylabel="accuracy of the bin's tracks",
        title=(
            f"Test tracks: ECE {expected_calibration_error(labels, probabilities):.3f}, "
            f"Brier {brier_score(labels, probabilities):.3f} ({N_BINS} bins)"
        ),
    )
    reliability_axes.legend(loc="upper left", fontsize=8)
    count_axes.bar(bins["bin_low"], bins["tracks"], width, align="edge", color="grey")
    count_axes.set(xlim=(0, 1), xlabel="top-1 confidence", ylabel="tracks")
    figure.tight_layout()
    return figure


def plot_training_curves(history: dict[str, list[float]]) -> Figure:
    """Loss and accuracy per epoch on the training and validation splits."""
    figure = Figure(figsize=(11, 4))
    loss_axes, accuracy_axes = figure.subplots(1, 2)
    epochs = np.arange(1, len(history["loss"]) + 1)
    for axes, metric in ((loss_axes, "loss"), (accuracy_axes, "accuracy")):
        axes.plot(epochs, history[metric], marker="o", label="train")
        axes.plot(epochs, history[f"val_{metric}"], marker="o", label="validation")
        axes.set(xlabel="epoch", ylabel=metric, title=metric.capitalize())
        axes.set_xlim(0.5, len(epochs) + 0.5)  # whole epochs, a one-step fit included
        axes.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))
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
    logged["epochs_trained"] = {"value": len(history["loss"]), "step": 0}
    return logged
