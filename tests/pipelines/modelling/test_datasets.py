"""The model artefact's and the optional datasets used by the modelling catalog entries."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from kedro.io import DatasetError
from sklearn.dummy import DummyClassifier

from gtzan_kedro.datasets import OptionalDataset
from gtzan_kedro.datasets.genre_classifier import GenreClassifierDataset
from gtzan_kedro.errors import InputError
from gtzan_kedro.models.genre_classifier import GenreClassifier
from gtzan_kedro.sources.gtzan_genres import GTZAN_GENRES as GENRES


def classifier(constant: int) -> GenreClassifier:
    """A scikit-learn classifier that always answers ``constant``, as a model artefact."""
    features, labels = np.zeros((len(GENRES), 2)), np.arange(len(GENRES))
    return GenreClassifier(
        architecture="svm",
        builder="svm",
        framework="sklearn",
        feature_set="mfcc_stats",
        extractor="mfcc_stats",
        feature_params={"n_mfcc": 13},
        window=None,
        normalisation={"mean": [0.0, 0.0], "std": [1.0, 1.0]},
        sample_rate=22050,
        class_names=list(GENRES),
        model=DummyClassifier(strategy="constant", constant=constant).fit(features, labels),
    )


def test_the_classifier_folder_holds_only_the_last_saved_model(tmp_path: Path):
    dataset = GenreClassifierDataset(path=str(tmp_path / "svm"))
    dataset.save(classifier(3))
    (tmp_path / "svm" / "model" / "stale.keras").write_bytes(b"an older model")

    dataset.save(classifier(5))
    loaded = dataset.load()

    assert sorted(path.name for path in (tmp_path / "svm" / "model").iterdir()) == ["model.joblib"]
    assert sorted(path.name for path in tmp_path.iterdir()) == ["svm"]  # nothing left beside it
    assert loaded.card() == classifier(5).card()
    probabilities, windows = loaded.predict_proba_features(np.zeros((4, 2)))
    assert (int(probabilities.argmax()), windows) == (5, 4)


def test_the_classifier_dataset_does_not_exist_before_the_first_save(tmp_path: Path):
    dataset = GenreClassifierDataset(path=str(tmp_path / "lstm"))

    assert not dataset.exists()
    with pytest.raises(DatasetError, match="No trained model in .*run the modelling pipeline"):
        dataset.load()


def test_a_damaged_model_file_is_one_clear_error(tmp_path: Path):
    GenreClassifierDataset(path=str(tmp_path / "svm")).save(classifier(1))
    (tmp_path / "svm" / "model" / "model.joblib").write_bytes(b"not a pickle")

    with pytest.raises(InputError, match="could not be loaded .*train the model again"):
        GenreClassifier.load(tmp_path / "svm")


def test_optional_dataset_loads_none_until_saved(tmp_path: Path):
    dataset = OptionalDataset(
        dataset={"type": "json.JSONDataset", "filepath": str(tmp_path / "m.json")}
    )

    assert dataset.load() is None
    dataset.save({"track_accuracy": 0.5})
    assert dataset.exists()
    assert dataset.load() == {"track_accuracy": 0.5}
