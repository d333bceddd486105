"""Fixtures of the pretrained-model tests: a music-like clip and the cached musicnn wheel."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from gtzan_kedro.musicnn.wheel import DEFAULT_WHEEL_CACHE, FETCH_COMMAND, MUSICNN_WHEEL
from tests.conftest import PROJECT_ROOT

SAMPLE_RATE = 22050


@pytest.fixture(scope="session")
def music_like_clip() -> np.ndarray:
    """10 s of chords, a bass line and noise-burst drums at 22050 Hz: real-looking, seeded."""
    rng = np.random.default_rng(7)
    time = np.arange(10 * SAMPLE_RATE) / SAMPLE_RATE
    clip = np.zeros_like(time)
    for start, root in zip(np.arange(0, 10, 2.0), [220.0, 174.6, 196.0, 261.6, 220.0], strict=True):
        active = (time >= start) & (time < start + 2)
        for ratio in (1.0, 1.26, 1.5, 2.0):
            clip[active] += 0.08 * np.sin(2 * np.pi * root * ratio * time[active])
        clip[active] += 0.15 * np.sin(2 * np.pi * root / 4 * time[active])
    for beat in np.arange(0, 10, 0.5):
        hit = (time >= beat) & (time < beat + 0.08)
        decay = np.exp(-(time[hit] - beat) * 40)
        clip[hit] += 0.4 * decay * rng.standard_normal(hit.sum())
    return clip.astype(np.float32)


@pytest.fixture(scope="session")
def cached_musicnn_wheel() -> Path:
    """The wheel `python -m gtzan_kedro.musicnn.wheel` cached: tests never fetch it."""
    wheel = PROJECT_ROOT / DEFAULT_WHEEL_CACHE / MUSICNN_WHEEL.filename
    if not wheel.is_file():
        message = f"'{wheel}' is missing: run `{FETCH_COMMAND}` first (tests never fetch)."
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return wheel
