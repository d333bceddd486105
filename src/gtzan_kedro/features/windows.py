"""Windows over a track's frames: one definition for training, evaluation and prediction."""

from __future__ import annotations

import numpy as np


def sliding_windows(frames: np.ndarray, length: int, hop: int) -> np.ndarray:
    """Cut ``(n, dims)`` frames into ``(windows, length, dims)`` windows covering all of them.

    A last window flush with the end makes the final seconds count; frames shorter than one
    window are repeated to fill it (repeating keeps the sound; silence would be a sound the
    models never heard).
    """
    if length < 1 or hop < 1:
        raise ValueError(f"A window needs length >= 1 and hop >= 1, not {length} and {hop}.")
    n_frames = len(frames)
    if n_frames < length:
        return np.pad(frames, ((0, length - n_frames), (0, 0)), mode="wrap")[None]
    windows = np.lib.stride_tricks.sliding_window_view(frames, length, axis=0)[::hop]
    windows = windows.transpose(0, 2, 1)
    if (n_frames - length) % hop:
        windows = np.concatenate([windows, frames[None, n_frames - length :]])
    return windows


def window_count(n_frames: int, length: int, hop: int) -> int:
    """How many windows :func:`sliding_windows` cuts from ``n_frames`` frames."""
    if n_frames <= length:
        return 1
    return -(-(n_frames - length) // hop) + 1


def window_starts(n_frames: int, length: int, hop: int) -> np.ndarray:
    """The first frame of each window :func:`sliding_windows` cuts from ``n_frames`` frames."""
    if n_frames <= length:
        return np.zeros(1, dtype=np.int64)
    starts = np.arange(0, n_frames - length + 1, hop)
    if (n_frames - length) % hop:
        starts = np.append(starts, n_frames - length)
    return starts
