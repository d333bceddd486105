"""MFCC and spectral summary statistics per window: the classical baseline's features."""

from __future__ import annotations

from typing import Any

import librosa
import numpy as np

from gtzan_kedro.features.log_mel import log_mel
from gtzan_kedro.features.registry import Positive, feature_set
from gtzan_kedro.features.windows import sliding_windows


def _width(*, n_mels: int, n_mfcc: int, **_: object) -> int:
    """Three statistics per MFCC, two per mel band, two of the flux."""
    return 3 * min(n_mfcc, n_mels) + 2 * n_mels + 2


def window_seconds(
    sample_rate: int, *, hop_length: int, window_frames: int, window_hop: int, **_: Any
) -> tuple[float, float]:
    """Each row summarises ``window_frames`` frames, one every ``window_hop`` frames."""
    frame = hop_length / sample_rate
    return window_hop * frame, window_frames * frame


@feature_set(
    "mfcc_stats",
    width=_width,
    ordered=(("hop_length", "n_fft"), ("window_hop", "window_frames")),
    row_seconds=window_seconds,
)
def mfcc_stats(  # noqa: PLR0917 - one keyword per parameter of the block
    waveform: np.ndarray,
    sample_rate: int,
    *,
    n_fft: Positive,
    hop_length: Positive,
    n_mels: Positive,
    n_mfcc: Positive,
    window_frames: Positive,
    window_hop: Positive,
) -> np.ndarray:
    """One row per window: MFCC, delta-MFCC and log-mel statistics over its frames.

    MFCCs' mean and spread over time describe timbre, the spread of their frame-to-frame
    change how fast it moves; each mel band's mean and spread plus the spectral flux
    summarise the spectrum itself.
    """
    frames = log_mel(waveform, sample_rate, n_fft=n_fft, hop_length=hop_length, n_mels=n_mels)
    windows = sliding_windows(frames, window_frames, window_hop).transpose(0, 2, 1)
    mfcc = librosa.feature.mfcc(S=windows, n_mfcc=min(n_mfcc, n_mels))
    flux = np.abs(np.diff(windows, axis=-1)).mean(axis=1)
    return np.concatenate(
        [
            mfcc.mean(axis=-1),
            mfcc.std(axis=-1),
            np.diff(mfcc, axis=-1).std(axis=-1),
            windows.mean(axis=-1),
            windows.std(axis=-1),
            flux.mean(axis=-1, keepdims=True),
            flux.std(axis=-1, keepdims=True),
        ],
        axis=1,
    ).astype(np.float32)
