"""The registry of feature sets: per-track extractors by name.

An extractor turns one clip's waveform into a 2-D float32 array ``(rows, dims)``: the frames
of a spectrogram-like representation (cut into windows afterwards, see ``window`` in the
feature set's parameters block) or one row per example (e.g. per-patch embeddings). It is a
pure function of the waveform, its sample rate and the parameters block's ``params``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from gtzan_kedro.registry import Registry

Extractor = Callable[..., np.ndarray]

FEATURE_SETS: Registry[Extractor] = Registry("feature extractor")


def feature_set(name: str) -> Callable[[Extractor], Extractor]:
    """Register the decorated extractor as feature set ``name``."""

    def decorator(extractor: Extractor) -> Extractor:
        FEATURE_SETS.register(name, extractor)
        return extractor

    return decorator


def get_extractor(name: str) -> Extractor:
    """Return the extractor registered as ``name``, or fail listing the known ones."""
    return FEATURE_SETS.named(name)


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
