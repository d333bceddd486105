"""Temperature scaling (Guo et al., 2017): one scalar that softens or sharpens probabilities.

Applied to log-probabilities, ``softmax(log p / T)``, it works for any framework that gives
probabilities (a softmax output, scikit-learn's ``predict_proba``). It scales a *track's*
probabilities (the mean of its examples'), so it never changes which label a track gets:
scaling each example before the mean could (a sharp ``T`` turns the mean into a vote).
``T`` is fitted on validation tracks by minimising the negative log-likelihood of their
scaled track probabilities, the ones
:class:`~gtzan_kedro.models.genre_classifier.GenreClassifier` gives.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy.optimize import minimize_scalar
from scipy.special import log_softmax

# Far below any probability a model gives, and finite in log: a class the model never
# predicts keeps a tiny probability rather than -inf.
_FLOOR = 1e-12
# log T is searched in [log 0.05, log 20]: beyond that a model is useless, not miscalibrated.
_LOG_BOUNDS = (np.log(0.05), np.log(20.0))


def apply_temperature(probabilities: ArrayLike, temperature: float) -> np.ndarray:
    """``softmax(log p / T)`` along the last axis; ``T = 1`` gives the probabilities back."""
    probabilities = np.asarray(probabilities)
    if temperature == 1.0:
        return probabilities
    logits = np.log(np.maximum(probabilities.astype(np.float64), _FLOOR)) / temperature
    return np.exp(log_softmax(logits, axis=-1)).astype(probabilities.dtype)


def track_means(
    probabilities: ArrayLike, labels: ArrayLike, track_ids: ArrayLike
) -> tuple[np.ndarray, np.ndarray]:
    """Each track's mean example probabilities ``(tracks, n_classes)`` and its label."""
    probabilities = np.asarray(probabilities, dtype=np.float64)
    _, track_index = np.unique(np.asarray(track_ids), return_inverse=True)
    n_tracks = track_index.max() + 1
    sums = np.zeros((n_tracks, probabilities.shape[1]))
    np.add.at(sums, track_index, probabilities)
    track_labels = np.zeros(n_tracks, dtype=int)
    track_labels[track_index] = np.asarray(labels)
    return sums / np.bincount(track_index, minlength=n_tracks)[:, None], track_labels


def track_nll(
    probabilities: ArrayLike, labels: ArrayLike, track_ids: ArrayLike, temperature: float = 1.0
) -> float:
    """Mean negative log-likelihood of the tracks' labels under their scaled track probabilities."""
    return _scaled_nll(*track_means(probabilities, labels, track_ids), temperature)


def _scaled_nll(track_probabilities: np.ndarray, labels: np.ndarray, temperature: float) -> float:
    """Mean negative log-likelihood of ``labels`` under ``track_probabilities`` scaled by ``T``."""
    scaled = apply_temperature(track_probabilities, temperature)
    likelihood = scaled[np.arange(len(labels)), labels]
    return float(-np.mean(np.log(np.maximum(likelihood, _FLOOR))))


def fit_temperature(probabilities: ArrayLike, labels: ArrayLike, track_ids: ArrayLike) -> float:
    """The temperature that minimises the validation tracks' negative log-likelihood."""
    tracks, track_labels = track_means(probabilities, labels, track_ids)
    result = minimize_scalar(
        lambda log_t: _scaled_nll(tracks, track_labels, float(np.exp(log_t))),
        bounds=_LOG_BOUNDS,
        method="bounded",
        options={"xatol": 1e-4},
    )
    return float(np.exp(result.x))
