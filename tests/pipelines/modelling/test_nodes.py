"""Evaluation nodes against scikit-learn and hand-computed examples."""

from __future__ import annotations

import re

import numpy as np
import pytest
from matplotlib.figure import Figure
from sklearn.metrics import accuracy_score, f1_score, precision_score, recall_score

from gtzan_kedro.genres import GENRES
from gtzan_kedro.pipelines.modelling.architectures import ARCHITECTURES
from gtzan_kedro.pipelines.modelling.nodes import (
    aggregate_by_track,
    build_model,
    classification_report_table,
    evaluate,
    mlflow_metrics,
    plot_confusion_matrix,
    plot_training_curves,
)


def one_hot_rows(*rows: dict[int, float]) -> np.ndarray:
    """Probability rows over the ten genres from ``{label: probability}`` dicts."""
    probabilities = np.zeros((len(rows), len(GENRES)))
    for index, row in enumerate(rows):
        for label, probability in row.items():
            probabilities[index, label] = probability
    return probabilities


# Three test tracks, their sequences interleaved:
#   A (blues):     0.6/0.4 and 0.1/0.9     -> sequences: right, wrong; mean 0.35/0.65: wrong
#   B (classical): 0.2/0.8 and 0.45/0.55   -> sequences: right, right; track: right
#   C (blues):     0.7/0.3, 0.4/0.6, 0.8/0.2 -> right, wrong, right; mean 0.63/0.37: right
# Sequence accuracy 5/7, track accuracy 2/3.
PROBABILITIES = one_hot_rows(
    {0: 0.6, 1: 0.4},
    {0: 0.2, 1: 0.8},
    {0: 0.7, 1: 0.3},
    {0: 0.1, 1: 0.9},
    {0: 0.4, 1: 0.6},
    {0: 0.45, 1: 0.55},
    {0: 0.8, 1: 0.2},
)
LABELS = np.array([0, 1, 0, 0, 0, 1, 0])
TRACK_IDS = np.array(["A", "B", "C", "A", "C", "B", "C"])


def test_track_probabilities_are_the_mean_of_their_sequences():
    track_probabilities, track_labels = aggregate_by_track(PROBABILITIES, LABELS, TRACK_IDS)

    np.testing.assert_allclose(
        track_probabilities[:, :2], [[0.35, 0.65], [0.325, 0.675], [19 / 30, 11 / 30]]
    )
    np.testing.assert_array_equal(track_labels, [0, 1, 0])


def test_a_track_with_two_labels_is_an_error():
    with pytest.raises(ValueError, match="different labels"):
        aggregate_by_track(PROBABILITIES[:2], np.array([0, 1]), np.array(["A", "A"]))


def test_sequence_and_track_scores_differ_as_computed_by_hand():
    metrics = evaluate(PROBABILITIES, LABELS, TRACK_IDS)

    assert metrics["sequence_accuracy"] == pytest.approx(5 / 7)
    assert metrics["track_accuracy"] == pytest.approx(2 / 3)
    # Tracks: truth [blues, classical, blues], predicted [classical, classical, blues].
    assert metrics["track_macro_precision"] == pytest.approx((1 + 0.5) / 2)
    assert metrics["track_macro_recall"] == pytest.approx((0.5 + 1) / 2)
    assert metrics["track_macro_f1"] == pytest.approx((2 / 3 + 2 / 3) / 2)


def test_scores_match_scikit_learn_on_random_predictions():
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(10), 6)
    track_ids = np.repeat([f"t{index}" for index in range(20)], 3)
    probabilities = rng.dirichlet(np.ones(10), size=len(labels))
    predictions = probabilities.argmax(axis=1)

    metrics = evaluate(probabilities, labels, track_ids)

    assert metrics["sequence_accuracy"] == pytest.approx(accuracy_score(labels, predictions))
    for name, score in (("precision", precision_score), ("recall", recall_score), ("f1", f1_score)):
        expected = score(labels, predictions, average="macro", zero_division=0)
        assert metrics[f"sequence_macro_{name}"] == pytest.approx(expected)
    track_probabilities = probabilities.reshape(20, 3, 10).mean(axis=1)
    track_labels = labels[::3]
    assert metrics["track_accuracy"] == pytest.approx(
        accuracy_score(track_labels, track_probabilities.argmax(axis=1))
    )
    assert metrics["track_macro_f1"] == pytest.approx(
        f1_score(track_labels, track_probabilities.argmax(axis=1), average="macro", zero_division=0)
    )


def test_per_genre_report_names_every_genre_at_both_levels():
    report = classification_report_table(PROBABILITIES, LABELS, TRACK_IDS)

    assert list(report.columns) == ["level", "genre", "precision", "recall", "f1", "support"]
    tracks = report[report["level"] == "track"].set_index("genre")
    assert list(tracks.index[: len(GENRES)]) == list(GENRES)
    assert tracks.loc["blues", "support"] == 2
    assert tracks.loc["blues", "recall"] == pytest.approx(0.5)
    assert report["support"].dtype.kind == "i"
    assert report[report["level"] == "sequence"].set_index("genre").loc["blues", "support"] == 5


def test_confusion_matrix_has_genre_names_on_both_axes():
    figure = plot_confusion_matrix(PROBABILITIES, LABELS, TRACK_IDS)
    axes = figure.axes[0]

    assert [label.get_text() for label in axes.get_xticklabels()] == list(GENRES)
    assert [label.get_text() for label in axes.get_yticklabels()] == list(GENRES)


def test_training_curves_show_loss_and_accuracy_of_both_splits():
    history = {
        "loss": [2.0, 1.5],
        "accuracy": [0.2, 0.4],
        "val_loss": [2.1, 1.8],
        "val_accuracy": [0.1, 0.3],
    }

    figure = plot_training_curves(history)

    assert [axes.get_title() for axes in figure.axes] == ["Loss", "Accuracy"]
    assert all(len(axes.get_lines()) == 2 for axes in figure.axes)


def test_a_model_without_epochs_gets_an_explanatory_figure():
    figure = plot_training_curves({})

    assert isinstance(figure, Figure)
    assert "no training epochs" in figure.texts[0].get_text()


def test_mlflow_metrics_log_scores_once_and_history_per_epoch():
    metrics = {"track_accuracy": 0.5}
    history = {"loss": [2.0, 1.5], "val_loss": [2.1, 1.8]}

    logged = mlflow_metrics(metrics, history)

    assert logged["track_accuracy"] == {"value": 0.5, "step": 0}
    assert logged["train_loss"] == [{"value": 2.0, "step": 1}, {"value": 1.5, "step": 2}]
    assert [point["step"] for point in logged["val_loss"]] == [1, 2]
    assert logged["epochs_trained"] == {"value": 2, "step": 0}
    assert mlflow_metrics(metrics, {}) == {"track_accuracy": {"value": 0.5, "step": 0}}


def test_unknown_architecture_lists_the_known_ones():
    known = ", ".join(sorted(ARCHITECTURES))

    message = f"Unknown architecture 'transformer'. Known architectures: {known}."

    with pytest.raises(ValueError, match=re.escape(message)):
        build_model(np.zeros((2, 16, 8), dtype=np.float32), "transformer", {}, seed=0)


def test_every_architecture_has_its_parameters_block_and_every_block_a_builder(parameters):
    blocks = {
        name
        for name, block in parameters.items()
        if isinstance(block, dict) and "architecture" in block
    }

    assert blocks == set(ARCHITECTURES)
    assert all(parameters[name]["architecture"] == name for name in ARCHITECTURES)


def test_keras_architectures_share_the_seed_training_defaults(parameters):
    training = parameters["modelling"]["training"]

    assert training["epochs"] == 20
    fitted_in_epochs = [name for name in ARCHITECTURES if parameters[name]["training"]]

    assert "lstm" in fitted_in_epochs
    assert all(parameters[name]["training"] == training for name in fitted_in_epochs)
