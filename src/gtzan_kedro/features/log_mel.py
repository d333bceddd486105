"""Log-mel spectrogram frames: the input of the sequence models."""

from __future__ import annotations

from typing import Any

import librosa
import numpy as np

from gtzan_kedro.features.registry import Positive, feature_set
from gtzan_kedro.frames import centred_frames


def _width(*, n_mels: int, **_: object) -> int:
    """One column per mel band."""
    return n_mels


def frame_seconds(sample_rate: int, *, hop_length: int, **_: Any) -> tuple[float, float]:
    """Each frame stands for one hop of the clip."""
    return hop_length / sample_rate, hop_length / sample_rate


@feature_set(
    "log_mel",
    width=_width,
    ordered=(("hop_length", "n_fft"),),
    row_seconds=frame_seconds,
)
def log_mel(
    waveform: np.ndarray,
    sample_rate: int,
    *,
    n_fft: Positive,
    hop_length: Positive,
    n_mels: Positive,
) -> np.ndarray:
    """Time-major ``(frames, n_mels)`` float32 log-mel spectrogram in dB."""

    def mel_power(segment: np.ndarray, center: bool) -> np.ndarray:
        return librosa.feature.melspectrogram(
            y=segment,
            sr=sample_rate,
            n_fft=n_fft,
            hop_length=hop_length,
            n_mels=n_mels,
            center=center,
        ).T

    mel = centred_frames(waveform, n_fft, hop_length, "constant", mel_power)
    # An absolute reference (not the clip's maximum) keeps loudness differences as features.
    return librosa.power_to_db(mel, ref=1.0, amin=1e-10, top_db=None).astype(np.float32)
