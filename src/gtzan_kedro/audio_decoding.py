"""Audio decoding: encoded bytes to float32 samples, mono and resampled, within limits.

One low module for every reader of audio: the catalog's audio datasets and the served model,
which receives files as bytes.
"""

from __future__ import annotations

import io
import math

import librosa
import numpy as np
import soundfile as sf
import soxr
from kedro.io import DatasetError

HOW_TO_FIX = "re-download or re-export the file, or delete it to leave it out"
# The most one clip may decode by default: a 15-minute track, far above GTZAN's 30 s.
DEFAULT_MAX_SECONDS = 15 * 60.0
# Samples a clip may hold per second of the limit: stereo at 96 kHz, so that a high rate or
# many channels cannot make a short clip as costly as a long one.
MAX_SAMPLES_PER_SECOND = 2 * 96_000
# Frames decoded per step: memory stays one block plus the (mono) result, whatever the file.
BLOCK_FRAMES = 1 << 16
SOUNDFILE_ERRORS = (sf.LibsndfileError, RuntimeError, TypeError)


def decode_audio(  # noqa: PLR0913 - keywords with defaults, callers name them
    encoded: bytes,
    name: str,
    sample_rate: int | None,
    *,
    mono: bool = True,
    max_seconds: float | None = DEFAULT_MAX_SECONDS,
    limit_name: str = "max_seconds",
) -> np.ndarray:
    """Decode an encoded file to float32 samples, mono and resampled like every loaded clip.

    Shared by ``AudioDataset`` and the serving pipeline, which receives files as bytes.
    A file lasting longer than ``max_seconds`` (``None``: no limit) is refused from its header
    before decoding; ``limit_name`` is the parameter the message tells the user to raise.
    Raises ``DatasetError`` naming ``name`` when the bytes are empty, too long or not audio.
    """
    if not encoded:
        raise DatasetError(f"Audio file '{name}' is empty (0 bytes): {HOW_TO_FIX}.")
    samples, native_rate = _decode(encoded, name, mono, (max_seconds, limit_name), sample_rate)
    if sample_rate and native_rate != sample_rate:
        samples = librosa.resample(samples, orig_sr=native_rate, target_sr=sample_rate)
    return np.ascontiguousarray(samples, dtype=np.float32)


def soundfile_reason(error: Exception) -> str:
    """Return libsndfile's own words for an error, without a trailing full stop."""
    return (getattr(error, "error_string", None) or str(error)).rstrip(".")


def _decode(
    encoded: bytes,
    name: str,
    mono: bool,
    limit: tuple[float | None, str],
    sample_rate: int | None,
) -> tuple[np.ndarray, int]:
    """Decode to mono ``(frames,)`` or ``(channels, frames)`` float32, and its rate.

    Mono audio that libsndfile reads comes back at ``sample_rate`` already, resampled block
    by block: one decoded copy of the clip, never two.
    """
    try:
        with sf.SoundFile(io.BytesIO(encoded)) as audio:
            _check_length(audio.frames / audio.samplerate, name, limit)
            _check_samples(audio, name, limit)
            if mono and sample_rate and audio.samplerate != sample_rate:
                return _read_resampled(audio, sample_rate), sample_rate
            samples = _read_blocks(audio, mono)
            rate = audio.samplerate
    except SOUNDFILE_ERRORS as soundfile_error:
        samples, rate = _decode_with_audioread(encoded, name, mono, limit, soundfile_error)
    if samples.shape[-1] == 0:
        raise DatasetError(f"Audio file '{name}' holds no samples: {HOW_TO_FIX}.")
    return samples, int(rate)


def _check_length(seconds: float, name: str, limit: tuple[float | None, str]) -> None:
    """Refuse a clip longer than the limit, naming the file, the limit and its parameter."""
    max_seconds, limit_name = limit
    if max_seconds is not None and seconds > max_seconds:
        raise DatasetError(
            f"Audio file '{name}' lasts {seconds:.0f} s, longer than the {max_seconds:g} s one "
            f"clip may decode: not decoded. Raise {limit_name} to allow longer clips."
        )


def _check_samples(audio: sf.SoundFile, name: str, limit: tuple[float | None, str]) -> None:
    """Refuse a clip holding more samples than ``max_seconds`` of stereo at 96 kHz."""
    max_seconds, limit_name = limit
    samples = audio.frames * audio.channels
    if max_seconds is not None and samples > max_seconds * MAX_SAMPLES_PER_SECOND:
        raise DatasetError(
            f"Audio file '{name}' holds {samples} samples ({audio.channels} channels at "
            f"{audio.samplerate} Hz), more than {max_seconds:g} s of stereo at 96 kHz that one "
            f"clip may decode: not decoded. Raise {limit_name} to allow larger clips."
        )


def _read_blocks(audio: sf.SoundFile, mono: bool) -> np.ndarray:
    """Decode block by block into one preallocated array (downmixed per block when mono)."""
    shape = (audio.frames,) if mono else (audio.frames, audio.channels)
    samples = np.empty(shape, dtype=np.float32)
    filled = 0
    for decoded in audio.blocks(BLOCK_FRAMES, dtype="float32", always_2d=True):
        # A header can promise more frames than the file holds: keep what was decoded.
        block = decoded[: len(samples) - filled]
        samples[filled : filled + len(block)] = block.mean(axis=1) if mono else block
        filled += len(block)
    samples = samples[:filled]
    return samples if mono else samples.T


def _read_resampled(audio: sf.SoundFile, sample_rate: int) -> np.ndarray:
    """Decode, downmix and resample block by block into one array at ``sample_rate``.

    soxr's stream gives the same samples as ``librosa.resample`` (soxr_hq) of the whole clip.
    """
    stream = soxr.ResampleStream(audio.samplerate, sample_rate, 1, dtype="float32", quality="HQ")
    samples = np.empty(math.ceil(audio.frames * sample_rate / audio.samplerate), np.float32)
    filled = 0
    # A header can promise more frames than the file holds: the stream ends where data does.
    blocks = audio.blocks(BLOCK_FRAMES, dtype="float32", always_2d=True)
    decoded = next(blocks, None)
    while decoded is not None:
        following = next(blocks, None)
        block = stream.resample_chunk(decoded.mean(axis=1), last=following is None)
        block = block[: len(samples) - filled]
        samples[filled : filled + len(block)] = block
        filled += len(block)
        decoded = following
    return samples[:filled]


def _decode_with_audioread(
    encoded: bytes,
    name: str,
    mono: bool,
    limit: tuple[float | None, str],
    soundfile_error: Exception,
) -> tuple[np.ndarray, int]:
    """Decode what libsndfile cannot read through audioread, never more than the limit."""
    max_seconds = limit[0]
    try:
        # audioread (ffmpeg, gstreamer ...) covers what libsndfile cannot read; it has no
        # header to check first, so it decodes at most one second past the limit.
        samples, rate = librosa.load(
            io.BytesIO(encoded),
            sr=None,
            mono=mono,
            duration=None if max_seconds is None else max_seconds + 1.0,
        )
    except Exception:  # noqa: BLE001 - any decoder failure means unreadable
        raise DatasetError(
            f"Cannot decode audio file '{name}' ({soundfile_reason(soundfile_error)}): {HOW_TO_FIX}."
        ) from None
    _check_length(samples.shape[-1] / rate, name, limit)
    samples = samples if mono else np.atleast_2d(samples)
    return samples.astype(np.float32), int(rate)
