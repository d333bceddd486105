"""The model and optional datasets used by the modelling catalog entries."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from kedro.io.core import Version
from sklearn.dummy import DummyClassifier

from gtzan_kedro.datasets import ModelDataset, OptionalDataset


def test_model_dataset_versions_each_save_in_its_own_folder(tmp_path: Path):
    features, labels = np.zeros((4, 2)), np.array([0, 1, 1, 1])
    first = ModelDataset(
        filepath=str(tmp_path / "svm"), version=Version(None, "2026-01-01T00.00.00.000Z")
    )
    first.save(DummyClassifier(strategy="most_frequent").fit(features, labels))
    second = ModelDataset(
        filepath=str(tmp_path / "svm"), version=Version(None, "2026-01-02T00.00.00.000Z")
    )
    second.save(DummyClassifier(strategy="constant", constant=0).fit(features, labels))

    latest = ModelDataset(filepath=str(tmp_path / "svm"), version=Version(None, None))

    assert (tmp_path / "svm" / "2026-01-01T00.00.00.000Z" / "svm" / "model.joblib").is_file()
    assert latest.exists()
    np.testing.assert_array_equal(latest.load().predict(features), [0, 0, 0, 0])


def test_model_dataset_does_not_exist_before_the_first_save(tmp_path: Path):
    assert not ModelDataset(filepath=str(tmp_path / "lstm"), version=Version(None, None)).exists()


def test_optional_dataset_loads_none_until_saved(tmp_path: Path):
    dataset = OptionalDataset(
        dataset={"type": "json.JSONDataset", "filepath": str(tmp_path / "m.json")}
    )

    assert dataset.load() is None
    dataset.save({"track_accuracy": 0.5})
    assert dataset.exists()
    assert dataset.load() == {"track_accuracy": 0.5}
