"""Temperature scaling: fitted on validation tracks, kept in the artefact, argmax unchanged."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from scipy.special import softmax
from sklearn.dummy import DummyClassifier

from gtzan_kedro.evaluation.calibration import expected_calibration_error
from gtzan_kedro.labels import make_label_set
from gtzan_kedro.models.calibration import apply_temperature, fit_temperature, track_nll
from gtzan_kedro.models.genre_classifier import CARD_FILE, GenreClassifier
from gtzan_kedro.pipelines.modelling.nodes import calibrate_model
from gtzan_kedro.sources.gtzan_genres import GTZAN_GENRES as GENRES
from tests.models.test_genre_classifier_artefact import _Flattening, classifier

N_CLASSES = 4


def over_confident(
    n_tracks: int, seed: int, n_classes: int = N_CLASSES
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Two examples per track; labels drawn from softmax(logits), the model says softmax(4 x).

    Returns the examples' probabilities, their labels and their track ids.
    """
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(n_tracks, n_classes))
    labels = np.array([rng.choice(n_classes, p=p) for p in softmax(logits, axis=1)])
    examples = np.repeat(logits, 2, axis=0) + 0.1 * rng.normal(size=(2 * n_tracks, n_classes))
    return softmax(4 * examples, axis=1), np.repeat(labels, 2), np.repeat(np.arange(n_tracks), 2)


def track_probabilities(probabilities: np.ndarray, temperature: float) -> np.ndarray:
    """The tracks' scaled mean probabilities (examples come in pairs, track by track)."""
    return apply_temperature(probabilities.reshape(-1, 2, N_CLASSES).mean(axis=1), temperature)


def test_temperature_scaling_lowers_the_nll_of_an_over_confident_model_and_keeps_its_argmax():
    validation = over_confident(300, seed=0)
    test_probabilities, test_labels, test_tracks = over_confident(300, seed=1)

    temperature = fit_temperature(*validation)

    assert temperature > 2  # the model is four times too sharp
    assert track_nll(test_probabilities, test_labels, test_tracks, temperature) < track_nll(
        test_probabilities, test_labels, test_tracks
    )
    before = track_probabilities(test_probabilities, 1.0)
    after = track_probabilities(test_probabilities, temperature)
    np.testing.assert_array_equal(after.argmax(axis=1), before.argmax(axis=1))
    labels = test_labels[::2]
    assert expected_calibration_error(labels, after) < expected_calibration_error(labels, before)
    np.testing.assert_allclose(after.sum(axis=1), 1.0, rtol=1e-6)


def test_a_temperature_of_one_changes_nothing():
    probabilities = softmax(np.random.default_rng(0).normal(size=(5, 3)), axis=1)

    np.testing.assert_array_equal(apply_temperature(probabilities, 1.0), probabilities)


def test_the_artefact_applies_and_keeps_its_temperature(tmp_path: Path):
    trained = classifier()
    # A prior of 3 to 1 between two labels: something for the temperature to soften.
    trained.model = _Flattening(
        DummyClassifier(strategy="prior").fit(np.zeros((40, 32)), [0] * 30 + [1] * 10)
    )
    features = np.random.default_rng(1).normal(size=(12, 8)).astype(np.float32)
    plain = trained.predict_proba_features(features)[0]
    trained.temperature = 3.0
    trained.save(tmp_path / "model")

    loaded = GenreClassifier.load(tmp_path / "model")
    scaled = loaded.predict_proba_features(features)[0]

    assert loaded.temperature == 3.0
    assert json.loads((tmp_path / "model" / CARD_FILE).read_text())["temperature"] == 3.0
    assert scaled.argmax() == plain.argmax()
    assert scaled.max() < plain.max()  # softer
    assert scaled.sum() == pytest.approx(1.0, rel=1e-5)


class LookUp:
    """A scikit-learn-like model whose example ``i`` (its only feature) has probabilities ``i``."""

    def __init__(self, probabilities: np.ndarray) -> None:
        self.probabilities = probabilities
        self.classes_ = np.arange(probabilities.shape[1])

    def predict_proba(self, examples: np.ndarray) -> np.ndarray:
        return self.probabilities[examples[:, 0].astype(int)]


def looking_up(windows: np.ndarray, temperature: float) -> GenreClassifier:
    """An artefact whose track of features ``0 .. n-1`` has the window probabilities ``windows``."""
    trained = classifier()
    trained.window = None
    trained.normalisation = {"mean": [0.0], "std": [1.0]}
    trained.model = LookUp(windows)
    trained.temperature = temperature
    return trained


def window_indices(n_windows: int) -> np.ndarray:
    """The features of a track whose windows are ``0 .. n_windows-1`` (see :class:`LookUp`)."""
    return np.arange(n_windows, dtype=np.float32)[:, None]


@pytest.mark.parametrize("temperature", [0.05, 0.2, 1.0, 5.0, 20.0])
def test_no_temperature_changes_a_tracks_label_even_where_its_windows_disagree(temperature):
    # Two windows mildly for pop, one clearly for blues: the mean says blues, a vote says pop.
    windows = np.zeros((3, len(GENRES)))
    windows[:, [GENRES.index("blues"), GENRES.index("pop")]] = [
        [0.4, 0.6],
        [0.4, 0.6],
        [0.75, 0.25],
    ]
    trained = looking_up(windows, temperature)

    track = trained.predict_proba_features(window_indices(3))[0]

    assert GENRES[track.argmax()] == "blues"
    assert track.sum() == pytest.approx(1.0, rel=1e-5)


def test_a_timeline_shows_the_windows_as_the_model_gave_them_and_the_verdict_scales_their_mean():
    windows = softmax(np.random.default_rng(2).normal(size=(3, len(GENRES))), axis=1)
    trained = looking_up(windows, temperature=0.5)
    features = window_indices(3)

    timeline = trained.timeline_table(trained.window_proba_features(features), 3, 3.0)
    track = trained.predict_proba_features(features)[0]

    np.testing.assert_allclose(timeline[list(GENRES)], windows, atol=1e-6)
    np.testing.assert_allclose(apply_temperature(windows.mean(axis=0), 0.5), track, atol=1e-6)
    assert not np.allclose(windows.mean(axis=0), track, atol=1e-3)  # the temperature counts


def test_an_artefact_saved_before_calibration_loads_with_temperature_one(tmp_path: Path):
    classifier().save(tmp_path / "model")
    card_path = tmp_path / "model" / CARD_FILE
    card = json.loads(card_path.read_text())
    del card["temperature"]
    card_path.write_text(json.dumps(card))

    assert GenreClassifier.load(tmp_path / "model").temperature == 1.0


@pytest.mark.parametrize("calibrate", [True, False])
def test_the_modelling_node_fits_the_temperature_unless_calibration_is_off(calibrate: bool):
    probabilities, labels, track_ids = over_confident(200, seed=0, n_classes=len(GENRES))
    examples = np.arange(len(labels), dtype=np.float32)[:, None]
    block = {"builder": "svm", "features": "mfcc_stats", "model": {}}

    temperature = calibrate_model(
        LookUp(probabilities),
        examples,
        labels,
        track_ids,
        make_label_set(list(GENRES), "generated"),
        block,
        {"calibrate": calibrate},
    )

    assert temperature == (
        pytest.approx(fit_temperature(probabilities, labels, track_ids)) if calibrate else 1.0
    )
    assert (temperature > 2) == calibrate
