"""Log-mel spectrogram frames: the input of the sequence models."""

from __future__ import annotations

import librosa
import numpy as np

from gtzan_kedro.features.frames import centred_frames
from gtzan_kedro.features.registry import feature_set


@feature_set("log_mel")
def log_mel(
    waveform: np.ndarray, sample_rate: int, *, n_fft: int, hop_length: int, n_mels: int
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
