"""The registry of feature sets: per-track extractors by name.

An extractor turns one clip's waveform into a 2-D float32 array ``(rows, dims)``: the frames
of a spectrogram-like representation (cut into windows afterwards, see ``window`` in the
feature set's parameters block) or one row per example (e.g. per-patch embeddings). It is a
pure function of the waveform, its sample rate and the parameters block's ``params``.

A registration may announce the width its arrays have for given ``params`` and pairs of
parameters that must be ordered (``hop_length`` at most ``n_fft``): the run's parameter check
refuses a disordered pair, and every array is checked (non-empty, finite, that width) before
it is saved.

An extractor may also say which stretch of the clip each of its rows describes
(``row_seconds``), so that a model's per-window probabilities can be put on a time axis.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import numpy as np
from annotated_types import Gt

from gtzan_kedro.registry import Registry

Extractor = Callable[..., np.ndarray]
# An extractor parameter that must be above zero (a count of bands, samples or frames); the
# run's parameter check reads it from the signature. annotated-types, not pydantic: workers
# import the extractors alone.
Positive = Annotated[int, Gt(0)]
# (sample_rate, **params) -> (step, length) in seconds of the rows the extractor returns.
RowSeconds = Callable[..., tuple[float, float]]

FEATURE_SETS: Registry[Extractor] = Registry("feature extractor")
# Per feature set: its arrays' width as a function of its params, (smaller, larger)
# parameter pairs, and the seconds its rows stand for.
WIDTHS: dict[str, Callable[..., int]] = {}
ORDERED: dict[str, tuple[tuple[str, str], ...]] = {}
ROW_SECONDS: dict[str, RowSeconds] = {}


def feature_set(
    name: str,
    *,
    width: Callable[..., int] | None = None,
    ordered: tuple[tuple[str, str], ...] = (),
    row_seconds: RowSeconds | None = None,
) -> Callable[[Extractor], Extractor]:
    """Register the decorated extractor as feature set ``name``.

    ``width(**params)`` is the number of columns it returns; ``ordered`` lists
    ``(smaller, larger)`` parameters where ``smaller`` may not exceed ``larger``.
    ``row_seconds(sample_rate, **params)`` gives the step and length in seconds of the rows
    it returns for a clip at ``sample_rate``: row ``i`` starts at ``i * step``, and the last
    one ends with the clip (as the windows of :func:`~gtzan_kedro.features.windows.
    sliding_windows` do). Without it, the rows are taken to share the clip evenly.
    """

    def decorator(extractor: Extractor) -> Extractor:
        FEATURE_SETS.register(name, extractor)
        if width is not None:
            WIDTHS[name] = width
        ORDERED[name] = ordered
        if row_seconds is not None:
            ROW_SECONDS[name] = row_seconds
        return extractor

    return decorator


def disordered_parameter(name: str, params: dict[str, Any]) -> str | None:
    """``"a=5: may not exceed b=4"`` for the first of ``name``'s ordered pairs broken by params."""
    for smaller, larger in ORDERED.get(name, ()):
        if smaller in params and larger in params and params[smaller] > params[larger]:
            return f"{smaller}={params[smaller]!r}: may not exceed {larger}={params[larger]!r}"
    return None


def check_features(features: Any, name: str, params: dict[str, Any]) -> np.ndarray:
    """Return ``features`` if it is a non-empty, finite 2-D array of the announced width."""
    features = np.asarray(features)
    expected = WIDTHS[name](**params) if name in WIDTHS else None
    problem = None
    if features.ndim != 2 or 0 in features.shape:
        problem = f"an array of shape {features.shape}, not (rows, columns) with both above 0"
    elif expected is not None and features.shape[1] != expected:
        problem = f"{features.shape[1]} columns, not the {expected} its params announce"
    elif not np.all(np.isfinite(features)):
        problem = f"{int(np.size(features) - np.isfinite(features).sum())} non-finite values"
    if problem:
        raise ValueError(f"feature set '{name}' gave {problem}: nothing saved for this track")
    return features


def get_extractor(name: str) -> Extractor:
    """Return the extractor registered as ``name``, or fail listing the known ones."""
    return FEATURE_SETS.named(name)


def row_seconds(name: str, sample_rate: int, params: dict[str, Any]) -> tuple[float, float] | None:
    """The step and length in seconds of extractor ``name``'s rows, if it declares them."""
    declared = ROW_SECONDS.get(name)
    return None if declared is None else declared(sample_rate, **params)


def featurise_clip(
    load: Callable[[], np.ndarray],
    sample_rate: int,
    feature_set: dict[str, Any],
    inputs: dict[str, str],
) -> np.ndarray:
    """Decode one clip (at ``sample_rate``, as the catalog says) and return its checked features.

    ``feature_set`` is the feature set's parameters block, ``inputs`` its catalog inputs. Sent to
    worker processes with every track: it lives here, apart from the nodes, so that a worker
    imports the extractors alone (0.2 s) rather than pandas and scikit-learn too (2.8 s).
    """
    name, params = feature_set["extractor"], feature_set.get("params", {})
    features = get_extractor(name)(load(), sample_rate, **params, **inputs)
    return check_features(features, name, params)
