"""Long clips are featurised block by block, with the frames of the clip in one piece."""

from __future__ import annotations

import numpy as np
import pytest

from gtzan_kedro import frames
from gtzan_kedro.features.log_mel import log_mel
from gtzan_kedro.musicnn import network as musicnn

LOG_MEL = {"n_fft": 512, "hop_length": 256, "n_mels": 16}


@pytest.mark.parametrize("extra_samples", [0, 1, 255, 300])
def test_a_clip_longer_than_a_block_gets_the_frames_of_the_whole_clip(monkeypatch, extra_samples):
    rng = np.random.default_rng(3)
    clip = (0.1 * rng.standard_normal(22050 * 3 + extra_samples)).astype(np.float32)
    whole_log_mel = log_mel(clip, 22050, **LOG_MEL)
    whole_musicnn = musicnn.mel_frames(clip, 22050)

    monkeypatch.setattr(frames, "BLOCK_FRAMES", 40)
    blocked_log_mel = log_mel(clip, 22050, **LOG_MEL)
    blocked_musicnn = musicnn.mel_frames(clip, 22050)

    assert blocked_log_mel.shape == whole_log_mel.shape == (1 + len(clip) // 256, 16)
    assert blocked_musicnn.shape == whole_musicnn.shape
    np.testing.assert_allclose(blocked_log_mel, whole_log_mel, rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(blocked_musicnn, whole_musicnn, rtol=1e-5, atol=1e-6)


def test_blocks_are_bounded(monkeypatch):
    monkeypatch.setattr(frames, "BLOCK_FRAMES", 40)
    seen = []

    def compute(segment: np.ndarray, center: bool) -> np.ndarray:
        seen.append((len(segment), center))
        return np.zeros((1 + (len(segment) - 512) // 256, 2), dtype=np.float32)

    rows = frames.centred_frames(np.zeros(22050 * 3, np.float32), 512, 256, "constant", compute)

    assert rows.shape == (1 + 22050 * 3 // 256, 2)
    assert max(length for length, _ in seen) == 39 * 256 + 512
    assert not any(center for _, center in seen)
