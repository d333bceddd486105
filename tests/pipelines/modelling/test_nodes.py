"""Modelling nodes: test tracks predicted by the model artefact, scores, reports, figures."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import accuracy_score, f1_score

from gtzan_kedro.errors import InputError
from gtzan_kedro.labels import make_label_set
from gtzan_kedro.models.architectures import ARCHITECTURES
from gtzan_kedro.models.genre_classifier import GenreClassifier
from gtzan_kedro.pipelines.modelling.nodes import (
    build_model,
    classification_report_table,
    evaluate,
    history_metrics,
    package_classifier,
    plot_confusion_matrix,
    plot_training_curves,
    predict_test_tracks,
    score_metrics,
)
from gtzan_kedro.sources.gtzan_genres import GTZAN_GENRES as GENRES
from tests.pipelines.modelling.conftest import GTZAN_LABEL_SET, GTZAN_MODEL_INPUT


class FixedModel:
    """A scikit-learn-like model: classical for examples whose first value is 0, else pop."""

    classes_ = np.arange(len(GENRES))

    def predict_proba(self, examples: np.ndarray) -> np.ndarray:
        probabilities = np.full((len(examples), len(GENRES)), 0.02)
        probabilities[:, 1] = np.where(examples[:, 0] == 0, 0.8, 0.02)
        probabilities[:, 7] = np.where(examples[:, 0] == 0, 0.04, 0.82)
        return probabilities


def fixed_classifier(window: dict[str, int] | None = None) -> GenreClassifier:
    """A classifier of two-dimensional feature rows, unit normalisation."""
    return GenreClassifier(
        architecture="fixed",
        builder="svm",
        framework="sklearn",
        feature_set="mfcc_stats",
        extractor="mfcc_stats",
        feature_params={},
        window=window,
        normalisation={"mean": [0.0, 0.0], "std": [1.0, 1.0]},
        sample_rate=22050,
        class_names=list(GENRES),
        model=FixedModel(),
    )


def test_test_tracks_get_the_mean_probability_of_their_examples():
    splits = pd.DataFrame(
        {
            "track_id": ["A", "B", "C"],
            "label": [1, 7, 1],
            "split": ["test", "train", "test"],
        }
    )
    features = {
        "A": lambda: np.zeros((3, 2)),  # every example says classical
        "B": lambda: np.ones((2, 2)),  # a training track: not predicted
        "C": lambda: np.array([[0.0, 0.0], [1.0, 1.0]]),  # half classical, half pop
    }

    table = predict_test_tracks(fixed_classifier(), features, splits)

    assert list(table["track_id"]) == ["A", "C"]
    assert list(table["label"]) == [1, 1]
    assert list(table.columns[3:]) == list(GENRES)
    assert table.loc[0, "classical"] == pytest.approx(0.8)
    assert table.loc[1, "classical"] == pytest.approx((0.8 + 0.02) / 2)
    assert table.loc[1, "pop"] == pytest.approx((0.04 + 0.82) / 2)
    assert list(table["predicted"]) == [1, 7]


def test_test_tracks_predicted_together_score_as_each_one_alone(monkeypatch):
    rng = np.random.default_rng(0)
    tracks = [rng.integers(0, 2, size=(n, 2)).astype(float) for n in (3, 1, 4, 2, 5)]
    one_by_one = np.stack([fixed_classifier().predict_proba_features(t)[0] for t in tracks])
    calls = []
    model = fixed_classifier()
    original = model.model.predict_proba
    monkeypatch.setattr(model.model, "predict_proba", lambda x: calls.append(1) or original(x))
    monkeypatch.setattr("gtzan_kedro.models.genre_classifier.EXAMPLES_PER_CALL", 4)

    together = model.predict_proba_tracks(iter(tracks))

    np.testing.assert_allclose(together, one_by_one)
    assert len(calls) == 3  # [3, 1] [4] [2, 5]: a call once 4 examples are waiting, then the rest
    assert model.predict_proba_tracks([]).shape == (0, len(GENRES))


def test_the_folds_of_a_cross_validation_run_say_which_pipelines_to_run():
    folds = pd.DataFrame({"track_id": ["A", "B"], "label": [1, 7], "fold": [1, 2]})
    features = {"A": lambda: np.zeros((3, 2)), "B": lambda: np.ones((2, 2))}

    with pytest.raises(InputError, match=r"folds of a cross-validation feature run.*kfold"):
        predict_test_tracks(fixed_classifier(), features, folds)


# Three test tracks: truth [blues, classical, blues], predicted [classical, classical, blues]
# with top-1 confidences 0.6, 0.9 and 0.75.
TRACK_PREDICTIONS = pd.DataFrame(
    {
        "track_id": ["A", "B", "C"],
        "label": [0, 1, 0],
        "predicted": [1, 1, 0],
        **{genre: [0.0, 0.0, 0.0] for genre in GENRES},
    }
)
TRACK_PREDICTIONS[list(GENRES[:3])] = [[0.3, 0.6, 0.1], [0.1, 0.9, 0.0], [0.75, 0.25, 0.0]]


BOOTSTRAP = {"resamples": 1000, "confidence": 0.95}


def test_track_scores_as_computed_by_hand():
    metrics = evaluate(TRACK_PREDICTIONS, BOOTSTRAP, seed=0)

    assert metrics["track_accuracy"] == pytest.approx(2 / 3)
    assert metrics["track_macro_f1"] == pytest.approx((2 / 3 + 2 / 3) / 2)
    assert metrics["track_accuracy_ci_low"] <= metrics["track_accuracy"]
    assert metrics["track_accuracy"] <= metrics["track_accuracy_ci_high"]
    # Each track alone in its bin: |0 - 0.6|, |1 - 0.9| and |1 - 0.75|, a third each.
    assert metrics["track_ece"] == pytest.approx((0.6 + 0.1 + 0.25) / 3)
    assert metrics["track_brier"] == pytest.approx(
        ((0.7**2 + 0.6**2 + 0.1**2) + (0.1**2 + 0.1**2) + (0.25**2 + 0.25**2)) / 3
    )


def test_scores_match_scikit_learn_on_random_predictions():
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(10), 6)
    predicted = np.where(rng.random(len(labels)) < 0.6, labels, rng.integers(0, 10, len(labels)))
    certain = {genre: (predicted == index).astype(float) for index, genre in enumerate(GENRES)}
    table = pd.DataFrame({"label": labels, "predicted": predicted, **certain})

    metrics = evaluate(table, BOOTSTRAP, seed=0)

    assert metrics["track_accuracy"] == pytest.approx(accuracy_score(labels, predicted))
    assert metrics["track_macro_f1"] == pytest.approx(
        f1_score(labels, predicted, average="macro", zero_division=0)
    )
    # Certain of every track: the calibration error is the share of tracks it got wrong.
    assert metrics["track_ece"] == pytest.approx(1 - metrics["track_accuracy"])


def test_per_genre_report_names_every_genre():
    report = classification_report_table(TRACK_PREDICTIONS, GTZAN_LABEL_SET)

    assert list(report.columns) == ["genre", "precision", "recall", "f1", "support"]
    genres = report.set_index("genre")
    assert list(genres.index[: len(GENRES)]) == list(GENRES)
    assert genres.loc["blues", "support"] == 2
    assert genres.loc["blues", "recall"] == pytest.approx(0.5)
    assert report["support"].dtype.kind == "i"


def test_confusion_matrix_has_genre_names_on_both_axes():
    figure = plot_confusion_matrix(TRACK_PREDICTIONS, GTZAN_LABEL_SET)
    axes = figure.axes[0]

    assert [label.get_text() for label in axes.get_xticklabels()] == list(GENRES)
    assert [label.get_text() for label in axes.get_yticklabels()] == list(GENRES)


def test_reports_and_matrix_name_the_labels_of_any_collection():
    label_set = make_label_set(["techno", "house", "ambient"], "local")

    report = classification_report_table(TRACK_PREDICTIONS, label_set).set_index("genre")
    axes = plot_confusion_matrix(TRACK_PREDICTIONS, label_set).axes[0]

    assert list(report.index[:3]) == ["techno", "house", "ambient"]
    assert report.loc["techno", "support"] == 2 and "blues" not in report.index
    assert [label.get_text() for label in axes.get_xticklabels()] == ["techno", "house", "ambient"]
    assert (axes.get_xlabel(), axes.get_ylabel()) == ("predicted label", "true label")


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


def test_a_one_step_fit_is_drawn_as_one_epoch_on_whole_ticks():
    history = {"loss": [1.2], "accuracy": [0.6], "val_loss": [1.4], "val_accuracy": [0.5]}

    figure = plot_training_curves(history)

    for axes in figure.axes:
        assert [len(line.get_xdata()) for line in axes.get_lines()] == [1, 1]
        assert all(float(tick).is_integer() for tick in axes.get_xticks())


def test_mlflow_metrics_log_scores_once_and_history_per_epoch():
    history = {"loss": [2.0, 1.5], "val_loss": [2.1, 1.8]}

    scores = score_metrics({"track_accuracy": 0.5})
    logged = history_metrics(history)

    assert scores == {"track_accuracy": {"value": 0.5, "step": 0}}
    assert logged["train_loss"] == [{"value": 2.0, "step": 1}, {"value": 1.5, "step": 2}]
    assert [point["step"] for point in logged["val_loss"]] == [1, 2]
    assert logged["epochs_trained"] == {"value": 2, "step": 0}


def test_unknown_builder_lists_the_known_ones():
    known = ", ".join(sorted(ARCHITECTURES))
    block = {"builder": "transformer", "features": "log_mel", "model": {}}

    message = f"Unknown builder 'transformer'. Known builders: {known}."

    with pytest.raises(ValueError, match=re.escape(message)):
        build_model(
            np.zeros((2, 16, 8), dtype=np.float32),
            GTZAN_MODEL_INPUT,
            GTZAN_LABEL_SET,
            block,
            seed=0,
        )


def test_model_input_of_another_label_set_is_refused_before_training():
    block = {"builder": "svm", "features": "mfcc_stats", "model": {}}
    other = make_label_set(["techno", "house"], "local")

    with pytest.raises(
        InputError,
        match=r"feature set 'mfcc_stats' was made for the labels "
        r"blues, classical.*now has techno, house: run feature engineering again",
    ):
        build_model(np.zeros((2, 6), dtype=np.float32), GTZAN_MODEL_INPUT, other, block, seed=0)


def test_the_packaged_classifier_carries_its_feature_set_and_statistics():
    block = {"builder": "svm", "features": "mfcc_stats", "model": {}}
    feature_set = {"extractor": "mfcc_stats", "params": {"n_mfcc": 13}, "window": None}
    statistics = {"mean": [0.0, 0.0], "std": [1.0, 1.0]}
    normalisation = GTZAN_MODEL_INPUT | statistics
    normalisation |= {"rows": 8, "feature_set": feature_set, "sample_rate": 16000}

    classifier = package_classifier(FixedModel(), normalisation, block, "base")

    assert (classifier.architecture, classifier.builder) == ("base", "svm")
    assert (classifier.framework, classifier.feature_set) == ("sklearn", "mfcc_stats")
    assert classifier.feature_params == {"n_mfcc": 13}
    assert classifier.normalisation == statistics
    assert (classifier.sample_rate, classifier.class_names) == (16000, list(GENRES))


def test_every_architecture_block_names_a_registered_builder_and_feature_set(parameters):
    blocks = parameters["modelling"]["architectures"]
    feature_sets = parameters["feature_engineering"]["feature_sets"]

    # Every builder is configured at least once; fine-tuning has its own environment.
    assert set(ARCHITECTURES) - {"musicnn_finetune"} <= {
        block["builder"] for block in blocks.values()
    }
    assert all(block["builder"] in ARCHITECTURES for block in blocks.values())
    assert all(block["features"] in feature_sets for block in blocks.values())
    assert blocks["svm"]["features"] == "mfcc_stats"
    assert blocks["lstm"]["features"] == "log_mel"


def test_training_defaults_are_the_seeds_and_no_block_copies_them(parameters):
    training = parameters["modelling"]["training"]

    assert training["epochs"] == 20
    # Merged in code when a model trains: a block holds only what differs for it.
    for name, block in parameters["modelling"]["architectures"].items():
        for key, value in block.get("training", {}).items():
            assert value != training[key], f"{name} repeats the default {key}={value!r}"
