"""The model artefact refuses damaged statistics, models and outputs with one clear line."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from sklearn.dummy import DummyClassifier

from gtzan_kedro.errors import InputError
from gtzan_kedro.models.genre_classifier import CARD_FILE, MODEL_FOLDER, GenreClassifier
from gtzan_kedro.models.prediction import ClipLimits, classify_clips
from gtzan_kedro.sources.gtzan_genres import GTZAN_GENRES as GENRES
from tests.conftest import SAMPLE_RATE, tone

FEATURE_PARAMS = {"n_fft": 512, "hop_length": 256, "n_mels": 8}


def classifier(mean: list[float] | None = None, std: list[float] | None = None) -> GenreClassifier:
    """A scikit-learn classifier on 8-band log-mel windows, fitted on random examples."""
    window = {"frames": 4, "hop": 2}
    examples = np.random.default_rng(0).normal(size=(40, 4 * 8))
    model = DummyClassifier(strategy="prior").fit(examples, np.arange(40) % len(GENRES))
    return GenreClassifier(
        architecture="dummy",
        builder="dummy",
        framework="sklearn",
        feature_set="log_mel",
        extractor="log_mel",
        feature_params=FEATURE_PARAMS,
        feature_inputs={},
        window=window,
        normalisation={"mean": mean or [0.0] * 8, "std": std or [1.0] * 8},
        sample_rate=SAMPLE_RATE,
        class_names=list(GENRES),
        model=_Flattening(model),
    )


class _Flattening:
    """Windows flattened into vectors before a scikit-learn model (picklable, module level)."""

    def __init__(self, model: DummyClassifier) -> None:
        self.model = model
        self.classes_ = model.classes_

    def predict_proba(self, examples: np.ndarray) -> np.ndarray:
        return self.model.predict_proba(examples.reshape(len(examples), -1))

    def get_params(self) -> dict:
        return {}


def test_saved_and_loaded_artefact_predicts_the_same(tmp_path: Path):
    trained = classifier()
    trained.save(tmp_path / "model")

    loaded = GenreClassifier.load(tmp_path / "model")
    clip = tone(440.0, seconds=1.0)

    np.testing.assert_allclose(
        loaded.predict_proba(clip, SAMPLE_RATE), trained.predict_proba(clip, SAMPLE_RATE)
    )
    assert loaded.card() == trained.card()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda card: card["normalisation"].pop("mean"), "need 'mean' and 'std'"),
        (lambda card: card["normalisation"].update(std=[0.0] * 8), "above zero"),
        (lambda card: card["normalisation"].update(mean=[float("nan")] * 8), "must be finite"),
    ],
)
def test_damaged_statistics_are_refused_when_the_model_is_loaded(tmp_path, change, message):
    classifier().save(tmp_path / "model")
    card_path = tmp_path / "model" / CARD_FILE
    card = json.loads(card_path.read_text())
    change(card)
    card_path.write_text(json.dumps(card))

    with pytest.raises(InputError) as error:
        GenreClassifier.load(tmp_path / "model")

    assert message in str(error.value)
    assert str(card_path) in str(error.value)
    assert "\n" not in str(error.value)


def test_a_damaged_model_file_is_named_in_one_line(tmp_path: Path):
    classifier().save(tmp_path / "model")
    (tmp_path / "model" / MODEL_FOLDER / "model.joblib").write_bytes(b"not a pickle")

    with pytest.raises(InputError) as error:
        GenreClassifier.load(tmp_path / "model")

    assert str(tmp_path / "model" / MODEL_FOLDER) in str(error.value)
    assert "train the model again" in str(error.value)


def test_probabilities_that_are_not_finite_are_an_error_for_that_clip_never_ok():
    broken = classifier()
    broken.normalisation = {"mean": [0.0] * 8, "std": [1.0] * 8}
    broken.model.predict_proba = lambda examples: np.full((len(examples), len(GENRES)), np.nan)

    table = classify_clips(broken, {"clip.wav": lambda: tone(440.0, 1.0)}, 3, ClipLimits())

    assert table.loc[0, "status"] == "error"
    assert "not finite" in table.loc[0, "error"]
