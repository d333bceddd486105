"""Keras predictions: padded to whole batches without changing a result, traced once a model."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from gtzan_kedro.keras_loader import load_keras
from gtzan_kedro.models.frameworks import FRAMEWORKS


def softmax_model(inputs: int = 4, classes: int = 3):
    """A small untrained softmax classifier."""
    keras = load_keras()
    return keras.Sequential(
        [keras.Input((inputs,)), keras.layers.Dense(classes, activation="softmax")]
    )


@pytest.mark.parametrize("count", [1, 32, 45])
def test_padding_to_whole_batches_changes_no_prediction(count: int):
    model = softmax_model()
    examples = np.random.default_rng(count).normal(size=(count, 4)).astype(np.float32)

    probabilities = FRAMEWORKS["keras"].predict_proba(model, examples, 3)

    assert probabilities.shape == (count, 3)
    np.testing.assert_allclose(probabilities, np.asarray(model(examples)), rtol=1e-5, atol=1e-6)


def test_models_each_predicting_once_cause_no_retracing_warning(caplog):
    # What a run does when it evaluates or logs several models: each is traced once.
    with caplog.at_level(logging.WARNING, logger="tensorflow"):
        for _ in range(8):
            FRAMEWORKS["keras"].predict_proba(softmax_model(), np.ones((5, 4), np.float32), 3)

    assert not [record for record in caplog.records if "retracing" in record.getMessage()]
