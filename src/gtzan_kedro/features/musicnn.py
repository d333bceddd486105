"""musicnn feature sets: pretrained embeddings per 3-s patch, and musicnn's own mel input."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from gtzan_kedro.features.registry import feature_set
from gtzan_kedro.models import musicnn as network


@feature_set("musicnn")
def musicnn(
    waveform: np.ndarray,
    sample_rate: int,
    *,
    model: str = "MSD_musicnn",
    layers: Sequence[str] = ("max_pool", "mean_pool"),
    weights_dir: str = str(network.DEFAULT_WEIGHTS_DIR),
) -> np.ndarray:
    """``(patches, dims)`` float32: per non-overlapping 3-s patch, ``layers`` concatenated.

    ``model`` is ``MSD_musicnn`` or ``MTT_musicnn``; ``layers`` any of ``max_pool``,
    ``mean_pool`` (753 each), ``penultimate`` (200) and ``taggram`` (50 tag probabilities).
    The weights are read from ``weights_dir`` (converted by ``ensure_musicnn_weights``).
    """
    patches = network.patches(network.mel_frames(waveform, sample_rate))
    return network.embed(patches, network.weights_file(weights_dir, model), layers)


@feature_set("musicnn_mel")
def musicnn_mel(waveform: np.ndarray, sample_rate: int) -> np.ndarray:
    """``(frames, 96)`` float32: musicnn's input frames, to be cut into 187-frame windows."""
    return network.mel_frames(waveform, sample_rate)
