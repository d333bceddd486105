"""The registry of feature sets: per-track extractors by name.

An extractor turns one clip's waveform into a 2-D float32 array ``(rows, dims)``: the frames
of a spectrogram-like representation (cut into windows afterwards, see ``window`` in the
feature set's parameters block) or one row per example (e.g. per-patch embeddings). It is a
pure function of the waveform, its sample rate and the parameters block's ``params``.

An extractor may also say which stretch of the clip each of its rows describes
(``row_seconds``), so that a model's per-window probabilities can be put on a time axis.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

Extractor = Callable[..., np.ndarray]
# (sample_rate, **params) -> (step, length) in seconds of the rows the extractor returns.
RowSeconds = Callable[..., tuple[float, float]]

FEATURE_SETS: dict[str, Extractor] = {}
ROW_SECONDS: dict[str, RowSeconds] = {}


def feature_set(
    name: str, *, row_seconds: RowSeconds | None = None
) -> Callable[[Extractor], Extractor]:
    """Register the decorated extractor as feature set ``name``.

    ``row_seconds(sample_rate, **params)`` gives the step and length in seconds of the rows
    it returns for a clip at ``sample_rate``: row ``i`` starts at ``i * step``, and the last
    one ends with the clip (as the windows of :func:`~gtzan_kedro.features.windows.
    sliding_windows` do). Without it, the rows are taken to share the clip evenly.
    """

    def decorator(extractor: Extractor) -> Extractor:
        if name in FEATURE_SETS:
            raise ValueError(f"Feature set '{name}' is registered twice.")
        FEATURE_SETS[name] = extractor
        if row_seconds is not None:
            ROW_SECONDS[name] = row_seconds
        return extractor

    return decorator


def get_extractor(name: str) -> Extractor:
    """Return the extractor registered as ``name``, or fail listing the known ones."""
    try:
        return FEATURE_SETS[name]
    except KeyError:
        known = ", ".join(sorted(FEATURE_SETS))
        raise ValueError(f"Unknown feature extractor '{name}'. Known: {known}.") from None


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
    """Decode one clip (at ``sample_rate``, as the catalog says) and return its features.

    ``feature_set`` is the feature set's parameters block, ``inputs`` its catalog inputs. Sent to
    worker processes with every track: it lives here, apart from the nodes, so that a worker
    imports the extractors alone (0.2 s) rather than pandas and scikit-learn too (2.8 s).
    """
    return get_extractor(feature_set["extractor"])(
        load(), sample_rate, **feature_set.get("params", {}), **inputs
    )
