"""From a track's features to model inputs: windows and normalisation, defined once.

The feature-engineering pipeline cuts training examples with these functions and the model
artefact (``gtzan_kedro.models.genre_classifier``) applies the same ones to any audio, so a
model never meets inputs prepared another way.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gtzan_kedro.features.windows import sliding_windows, window_count, window_starts


def track_examples(features: np.ndarray, window: dict[str, int] | None) -> np.ndarray:
    """A track's examples: windows of frames, or its rows as they are when ``window`` is None."""
    features = np.asarray(features, dtype=np.float32)
    if window is None:
        return features
    return sliding_windows(features, window["frames"], window["hop"])


def example_count(n_rows: int, window: dict[str, int] | None) -> int:
    """How many examples :func:`track_examples` cuts from a track of ``n_rows`` rows."""
    return n_rows if window is None else window_count(n_rows, window["frames"], window["hop"])


def example_spans(
    n_rows: int,
    seconds: float,
    window: dict[str, int] | None,
    row_seconds: tuple[float, float] | None,
) -> np.ndarray:
    """``(examples, 2)`` start and end seconds of the examples :func:`track_examples` cuts.

    Rows are ``row_seconds = (step, length)`` apart and long, the last one ending with the
    clip (``None``: rows share the clip evenly); an example of several rows spans from its
    first row's start to its last row's end. Everything is kept within ``[0, seconds]``, so
    a clip repeated to fill one window spans the clip once.
    """
    step, length = row_seconds or (seconds / n_rows, seconds / n_rows)
    row_starts = np.arange(n_rows) * step
    row_ends = row_starts + length
    row_starts[-1], row_ends[-1] = seconds - length, seconds
    if window is None:
        first, last = np.arange(n_rows), np.arange(n_rows)
    else:
        first = window_starts(n_rows, window["frames"], window["hop"])
        last = np.minimum(first + window["frames"], n_rows) - 1
    return np.clip(np.stack([row_starts[first], row_ends[last]], axis=1), 0.0, seconds)


def normalise(examples: np.ndarray, normalisation: dict[str, Any]) -> np.ndarray:
    """Standardise each feature dimension with the training split's mean and spread."""
    mean = np.asarray(normalisation["mean"], dtype=np.float32)
    std = np.asarray(normalisation["std"], dtype=np.float32)
    return ((examples - mean) / std).astype(np.float32)


def check_normalisation(normalisation: Any, dims: int | None = None) -> None:
    """Fail unless ``normalisation`` holds finite means and positive finite spreads."""
    if not isinstance(normalisation, dict) or not {"mean", "std"} <= set(normalisation):
        raise ValueError("the normalisation statistics need 'mean' and 'std'")
    mean = np.asarray(normalisation["mean"], dtype=np.float64)
    std = np.asarray(normalisation["std"], dtype=np.float64)
    if mean.shape != std.shape or mean.ndim != 1:
        raise ValueError("'mean' and 'std' must be lists of the same length")
    if dims is not None and len(mean) != dims:
        raise ValueError(f"the statistics have {len(mean)} dimensions, the features {dims}")
    if not (np.all(np.isfinite(mean)) and np.all(np.isfinite(std)) and np.all(std > 0)):
        raise ValueError("'mean' must be finite and 'std' finite and above zero")
