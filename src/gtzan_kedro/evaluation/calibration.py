"""Whether predicted probabilities mean what they say: ECE, Brier score, reliability bins.

Everything is at track level, on the top-1 confidence (the probability of the predicted
label), in equal-width confidence bins: a bin's accuracy against its mean confidence.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy.stats import DegenerateDataWarning, bootstrap

# Guo et al. (2017), "On Calibration of Modern Neural Networks", use 15 bins.
N_BINS = 15


def _bin_index(confidence: np.ndarray, n_bins: int) -> np.ndarray:
    """Each confidence's bin: bin ``b`` holds ``(b / n_bins, (b + 1) / n_bins]``, 0 in the first."""
    return np.clip(np.ceil(np.asarray(confidence) * n_bins).astype(int) - 1, 0, n_bins - 1)


def top_confidence(labels: ArrayLike, probabilities: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Each track's top-1 confidence and whether its top-1 label is the true one."""
    probabilities = np.asarray(probabilities, dtype=np.float64)
    return probabilities.max(axis=1), probabilities.argmax(axis=1) == np.asarray(labels)


def reliability_table(
    labels: ArrayLike, probabilities: ArrayLike, n_bins: int = N_BINS
) -> pd.DataFrame:
    """Per confidence bin: its edges, its tracks, their mean confidence and their accuracy."""
    confidence, correct = top_confidence(labels, probabilities)
    bins = _bin_index(confidence, n_bins)
    tracks = np.bincount(bins, minlength=n_bins)
    with np.errstate(invalid="ignore"):  # an empty bin has no mean: NaN
        mean_confidence = np.bincount(bins, confidence, n_bins) / tracks
        accuracy = np.bincount(bins, correct.astype(float), n_bins) / tracks
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    return pd.DataFrame(
        {
            "bin_low": edges[:-1],
            "bin_high": edges[1:],
            "tracks": tracks,
            "confidence": mean_confidence,
            "accuracy": accuracy,
        }
    )


def _ece_along(confidence: np.ndarray, correct: np.ndarray, axis: int = -1) -> np.ndarray:
    """ECE of every resample at once: per bin ``|hits - confidences| / n``, summed."""
    bins = _bin_index(confidence, N_BINS)
    gaps = sum(
        np.abs(np.sum(np.where(bins == b, correct - confidence, 0.0), axis=axis))
        for b in range(N_BINS)
    )
    return gaps / confidence.shape[axis]


def expected_calibration_error(labels: ArrayLike, probabilities: ArrayLike) -> float:
    """ECE: the bins' ``|accuracy - mean confidence|``, weighted by their share of tracks."""
    confidence, correct = top_confidence(labels, probabilities)
    if not len(confidence):
        return float("nan")
    return float(_ece_along(confidence, correct.astype(float)))


def brier_score(labels: ArrayLike, probabilities: ArrayLike) -> float:
    """Multiclass Brier score: per track ``sum_k (p_k - [k is the label])^2``, averaged (0-2)."""
    probabilities = np.asarray(probabilities, dtype=np.float64)
    one_hot = np.eye(probabilities.shape[1])[np.asarray(labels)]
    return float(np.mean(np.sum((probabilities - one_hot) ** 2, axis=1)))


def calibration_scores(
    labels: ArrayLike,
    probabilities: ArrayLike,
    *,
    resamples: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> dict[str, float]:
    """Track ECE with its bootstrap interval (``_ci_low``/``_ci_high``), and the Brier score."""
    top, correct = top_confidence(labels, probabilities)
    ece = expected_calibration_error(labels, probabilities)
    low = high = ece
    if len(top) >= 2:
        with warnings.catch_warnings(), np.errstate(invalid="ignore", divide="ignore"):
            warnings.simplefilter("ignore", DegenerateDataWarning)
            result = bootstrap(
                (top, correct.astype(float)),
                _ece_along,
                n_resamples=resamples,
                paired=True,
                vectorized=True,
                confidence_level=confidence,
                method="percentile",
                rng=np.random.default_rng(seed),
            )
        low, high = result.confidence_interval
    return {
        "track_ece": ece,
        "track_ece_ci_low": float(min(low, ece)),
        "track_ece_ci_high": float(max(high, ece)),
        "track_brier": brier_score(labels, probabilities),
    }


# Columns of a track predictions table that are not class probabilities.
_PREDICTION_META = ("track_id", "label", "predicted", "fold")


def class_probabilities(track_predictions: pd.DataFrame) -> pd.DataFrame:
    """The class probability columns of a track predictions table, in the classes' order."""
    return track_predictions.drop(
        columns=[column for column in _PREDICTION_META if column in track_predictions]
    )
