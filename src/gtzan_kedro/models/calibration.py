"""Temperature scaling (Guo et al., 2017): one scalar that softens or sharpens probabilities.

Applied to log-probabilities, ``softmax(log p / T)``, it works for any framework that gives
probabilities (a softmax output, scikit-learn's ``predict_proba``) and never changes which
label is most probable. ``T`` is fitted on validation tracks by minimising the negative
log-likelihood of their track probabilities (the mean of their examples' probabilities),
the same probabilities :class:`~gtzan_kedro.models.genre_classifier.GenreClassifier` gives.
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


def track_nll(
    probabilities: ArrayLike, labels: ArrayLike, track_ids: ArrayLike, temperature: float = 1.0
) -> float:
    """Mean negative log-likelihood of the tracks' labels under their scaled track probabilities."""
    scaled = apply_temperature(np.asarray(probabilities, dtype=np.float64), temperature)
    _, track_index = np.unique(np.asarray(track_ids), return_inverse=True)
    n_tracks = track_index.max() + 1
    sums = np.zeros((n_tracks, scaled.shape[1]))
    np.add.at(sums, track_index, scaled)
    counts = np.bincount(track_index, minlength=n_tracks)
    track_labels = np.zeros(n_tracks, dtype=int)
    track_labels[track_index] = np.asarray(labels)
    likelihood = sums[np.arange(n_tracks), track_labels] / counts
    return float(-np.mean(np.log(np.maximum(likelihood, _FLOOR))))


def fit_temperature(probabilities: ArrayLike, labels: ArrayLike, track_ids: ArrayLike) -> float:
    """The temperature that minimises the validation tracks' negative log-likelihood."""
    result = minimize_scalar(
        lambda log_t: track_nll(probabilities, labels, track_ids, float(np.exp(log_t))),
        bounds=_LOG_BOUNDS,
        method="bounded",
        options={"xatol": 1e-4},
    )
    return float(np.exp(result.x))
