"""Centred spectrogram frames of long clips, computed block by block in bounded memory.

A 15-minute clip's whole STFT is hundreds of MB (1025 complex bins per frame); cut into
blocks of frames, each with the samples its frames cover, memory stays one block's worth
while every frame sees exactly the samples it would see in one piece.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

# Frames per block: 2048 frames of 1025 complex64 bins is 17 MB of STFT.
BLOCK_FRAMES = 2048

# compute(segment, center) -> (frames, dims): librosa's frames of ``segment``, centred or not.
FrameFunction = Callable[[np.ndarray, bool], np.ndarray]


def centred_frames(
    waveform: np.ndarray,
    frame_length: int,
    hop_length: int,
    pad_mode: str,
    compute: FrameFunction,
) -> np.ndarray:
    """``compute`` over a clip's centred frames, block by block when the clip is long.

    The same rows as ``compute(waveform, True)`` (frames centred on multiples of
    ``hop_length``, the edges padded with ``pad_mode``, as librosa does): a clip of at most
    one block is computed in one piece, a longer one per block of ``BLOCK_FRAMES`` frames on
    the padded samples those frames cover.
    """
    pad = frame_length // 2
    n_frames = 1 + (len(waveform) + 2 * pad - frame_length) // hop_length
    if n_frames <= BLOCK_FRAMES or len(waveform) <= pad:
        return compute(waveform, True)
    rows = None
    for start in range(0, n_frames, BLOCK_FRAMES):
        stop = min(start + BLOCK_FRAMES, n_frames)
        # The block's samples in the unpadded clip, and how much padding each side lacks.
        low = start * hop_length - pad
        high = (stop - 1) * hop_length + frame_length - pad
        segment = waveform[max(low, 0) : min(high, len(waveform))]
        missing = (max(-low, 0), max(high - len(waveform), 0))
        if any(missing):
            segment = np.pad(segment, missing, mode=pad_mode)
        block = compute(segment, False)
        if rows is None:
            rows = np.empty((n_frames, *block.shape[1:]), dtype=block.dtype)
        rows[start:stop] = block
    return rows
