"""Every registered architecture builds, trains, predicts and round-trips through the catalog."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from kedro.io import AbstractDataset

from gtzan_kedro.genres import GENRES
from gtzan_kedro.pipelines.modelling.architectures import ARCHITECTURES
from gtzan_kedro.pipelines.modelling.nodes import build_model, predict_probabilities, train_model
from tests.pipelines.modelling.conftest import TINY_TRAINING


def catalog_model_dataset(project_config: Any, namespace: str, data: Path) -> AbstractDataset:
    """The dataset the catalog's ``{namespace}.model`` factory wraps, rooted in ``data``."""
    entry = project_config["catalog"]["{namespace}.model"]
    config = {
        key: value.replace("{namespace}", namespace) if isinstance(value, str) else value
        for key, value in entry["dataset"].items()
    }
    config["filepath"] = str(data / config["filepath"])
    config["versioned"] = entry.get("versioned", False)
    return AbstractDataset.from_config(f"{namespace}.model", config)


@pytest.mark.parametrize("architecture", sorted(ARCHITECTURES))
def test_architecture_trains_predicts_and_reloads(
    architecture: str, tiny_splits, parameters, project_config, tmp_path: Path
):
    block = parameters[architecture]
    train, validation, test = tiny_splits["train"], tiny_splits["validation"], tiny_splits["test"]
    training = {**block["training"], **TINY_TRAINING} if block["training"] else {}

    model = build_model(train["sequences"], block["architecture"], block["model"], seed=0)
    model, history = train_model(
        model,
        train["sequences"],
        train["labels"],
        validation["sequences"],
        validation["labels"],
        training,
        seed=0,
    )
    probabilities = predict_probabilities(model, test["sequences"])

    assert probabilities.shape == (len(test["labels"]), len(GENRES))
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)
    assert all(len(values) == 1 for values in history.values())

    dataset = catalog_model_dataset(project_config, architecture, tmp_path)
    dataset.save(model)
    reloaded = dataset.load()
    np.testing.assert_allclose(
        predict_probabilities(reloaded, test["sequences"]), probabilities, rtol=1e-5, atol=1e-6
    )
