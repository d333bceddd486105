"""musicnn feature sets: pretrained embeddings per 3-s patch, and musicnn's own mel input."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import Field

from gtzan_kedro.features.registry import feature_set
from gtzan_kedro.features.windows import sliding_windows
from gtzan_kedro.musicnn import network


def patch_seconds(sample_rate: int, **_: Any) -> tuple[float, float]:
    """Each row is one 3-s patch of musicnn's 16 kHz frames, patches side by side."""
    patch = network.PATCH_FRAMES * network.HOP_LENGTH / network.SAMPLE_RATE
    return patch, patch


def musicnn_frame_seconds(sample_rate: int, **_: Any) -> tuple[float, float]:
    """Each frame stands for one hop of musicnn's 16 kHz signal."""
    frame = network.HOP_LENGTH / network.SAMPLE_RATE
    return frame, frame


@feature_set("musicnn", row_seconds=patch_seconds)
def musicnn(
    waveform: np.ndarray,
    sample_rate: int,
    *,
    weights: str,
    layers: Sequence[Literal["max_pool", "mean_pool", "penultimate", "taggram"]] = (
        "max_pool",
        "mean_pool",
    ),
) -> np.ndarray:
    """``(patches, dims)`` float32: per 3-s patch, ``layers`` concatenated.

    ``weights`` is the converted weights file of ``MSD_musicnn`` or ``MTT_musicnn`` (the
    catalog's ``<model>_weights``); ``layers`` any of ``max_pool``, ``mean_pool`` (753 each),
    ``penultimate`` (200) and ``taggram`` (50 tag probabilities). Patches cover the whole
    clip, a short one repeated to fill one, like every other feature set's windows.
    """
    frames = network.mel_frames(waveform, sample_rate)
    patches = sliding_windows(frames, network.PATCH_FRAMES, network.PATCH_FRAMES)
    return network.embed(patches, weights, tuple(layers))


@feature_set("musicnn_frames")
def musicnn_frames(
    waveform: np.ndarray,
    sample_rate: int,
    *,
    weights: str,
    pool_frames: Annotated[int, Field(ge=1, le=network.PATCH_FRAMES)] = 16,
) -> np.ndarray:
    """``(rows, 753)`` float32: musicnn's mid-end output over time, averaged per ``pool_frames``.

    The network sees consecutive 3-s patches (the last one flush with the end); each of the
    clip's frames (16 ms) keeps its patch's output once, and every ``pool_frames`` frames
    are averaged into one row (16: about 4 rows per second).
    """
    frames = network.mel_frames(waveform, sample_rate)
    patches = sliding_windows(frames, network.PATCH_FRAMES, network.PATCH_FRAMES)
    outputs = network.embed_frames(patches, weights)
    n_frames = max(len(frames), network.PATCH_FRAMES)
    full = n_frames // network.PATCH_FRAMES
    per_frame = outputs[:full].reshape(-1, outputs.shape[-1])
    if n_frames > len(per_frame):  # the last patch's frames the full ones did not cover
        per_frame = np.concatenate([per_frame, outputs[-1, len(per_frame) - n_frames :]])
    rows = -(-n_frames // pool_frames)
    padded = np.pad(per_frame, ((0, rows * pool_frames - n_frames), (0, 0)), mode="edge")
    return padded.reshape(rows, pool_frames, -1).mean(axis=1, dtype=np.float32)


def _mel_width(**_: object) -> int:
    """musicnn's fixed number of mel bands."""
    return network.N_MELS


@feature_set("musicnn_mel", width=_mel_width, row_seconds=musicnn_frame_seconds)
def musicnn_mel(waveform: np.ndarray, sample_rate: int) -> np.ndarray:
    """``(frames, 96)`` float32: musicnn's input frames, to be cut into 187-frame windows."""
    return network.mel_frames(waveform, sample_rate)
