"""Audio clips as Kedro datasets: decoded samples, and header-only metadata."""

from __future__ import annotations

import io
import math
import re
from pathlib import Path, PurePosixPath
from typing import Any

import librosa
import numpy as np
import soundfile as sf
import soxr
from kedro.io import DatasetError

from gtzan_kedro.datasets._fs import FileDataset, write_atomically
from gtzan_kedro.regular_files import irregular_file

_HOW_TO_FIX = "re-download or re-export the file, or delete it to leave it out"
# The most one clip may decode by default: a 15-minute track, far above GTZAN's 30 s.
DEFAULT_MAX_SECONDS = 15 * 60.0
# Samples a clip may hold per second of the limit: stereo at 96 kHz, so that a high rate or
# many channels cannot make a short clip as costly as a long one.
MAX_SAMPLES_PER_SECOND = 2 * 96_000
# Frames decoded per step: memory stays one block plus the (mono) result, whatever the file.
BLOCK_FRAMES = 1 << 16
# libsndfile's header log for a data chunk cut short: "data : 44100 (should be 22028)".
_SHORT_DATA_CHUNK = re.compile(r"^\s*(?:data|Data Size|SSND)\s*:\s*(\d+) \(should be (\d+)\)", re.M)
_SOUNDFILE_ERRORS = (sf.LibsndfileError, RuntimeError, TypeError)


class AudioDataset(FileDataset[np.ndarray | bytes, np.ndarray]):
    """One audio file, loaded as float32 mono samples at ``sample_rate``.

    Any format libsndfile reads (WAV, AU, FLAC, OGG, MP3 ...) is decoded; anything else is
    tried through librosa's audioread fallback. Stereo is averaged to mono and other sample
    rates are resampled, so every clip reaches the pipeline in the same shape. A file whose
    header says it lasts longer than ``max_seconds`` is refused before it is decoded, with a
    message telling to raise ``max_seconds_parameter`` (the setting that feeds it).

    Saving takes either samples (a float array in [-1, 1], written as 16-bit PCM at
    ``sample_rate`` in the format the extension names) or ``bytes`` of an already encoded
    file, written unchanged. Writes go to a temporary file that is renamed into place.

    Example catalog entry::

        clip:
          type: gtzan_kedro.datasets.AudioDataset
          filepath: data/01_raw/gtzan/blues/blues.00000.wav
          sample_rate: 22050
    """

    def __init__(  # noqa: PLR0913 - Kedro passes the catalog entry's keys as keywords
        self,
        *,
        filepath: str,
        sample_rate: int | None = 22050,
        mono: bool = True,
        subtype: str = "PCM_16",
        max_seconds: float | None = DEFAULT_MAX_SECONDS,
        max_seconds_parameter: str = "max_seconds",
        fs_args: dict[str, Any] | None = None,
        credentials: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(
            filepath=filepath, fs_args=fs_args, credentials=credentials, metadata=metadata
        )
        self._sample_rate = sample_rate
        self._mono = mono
        self._subtype = subtype
        self._max_seconds = max_seconds
        self._max_seconds_parameter = max_seconds_parameter

    def load(self) -> np.ndarray:
        """Decode the file to float32 samples, mono and resampled as configured."""
        if self._protocol == "file":
            _check_regular(self._path, self._filepath)
        encoded = _read_bytes(self._filesystem, self._path, self._filepath)
        return decode_audio(
            encoded,
            self._filepath,
            self._sample_rate,
            mono=self._mono,
            max_seconds=self._max_seconds,
            limit_name=self._max_seconds_parameter,
        )

    def save(self, data: np.ndarray | bytes) -> None:
        """Write samples as PCM audio, or encoded ``bytes`` unchanged, atomically."""
        if isinstance(data, bytes | bytearray):
            write_atomically(self._filesystem, self._path, lambda stream: stream.write(data))
            return
        if not self._sample_rate:
            raise DatasetError(
                f"Cannot save '{self._filepath}': set 'sample_rate' to write samples."
            )
        samples = np.asarray(data, dtype=np.float32)
        if samples.ndim == 2:  # (channels, samples) in, soundfile wants (samples, channels)
            samples = samples.T
        extension = PurePosixPath(self._path).suffix.lstrip(".").upper() or "WAV"
        buffer = io.BytesIO()
        sf.write(buffer, samples, self._sample_rate, subtype=self._subtype, format=extension)
        write_atomically(
            self._filesystem, self._path, lambda stream: stream.write(buffer.getvalue())
        )

    def _describe(self) -> dict[str, Any]:
        return {
            **super()._describe(),
            "sample_rate": self._sample_rate,
            "mono": self._mono,
            "max_seconds": self._max_seconds,
        }


class AudioMetadataDataset(FileDataset[None, dict[str, Any]]):
    """One audio file's header: sample rate, channels, frames and duration, without decoding.

    Only the header is read (``soundfile.info`` on the open file), never the audio data.
    ``truncated`` says whether the header promises more audio than the file holds (a file cut
    short by an interrupted copy), with ``problem`` saying by how much. Read-only; a file
    whose header cannot be parsed raises ``DatasetError`` naming it.
    """

    def load(self) -> dict[str, Any]:
        """Return ``sample_rate``, ``channels``, ``frames``, ``duration_s``, ``format`` and more."""
        try:
            if self._filesystem.size(self._path) == 0:
                raise DatasetError(
                    f"Audio file '{self._filepath}' is empty (0 bytes): {_HOW_TO_FIX}."
                )
            with self._filesystem.open(self._path, "rb") as stream:
                info = sf.info(stream)
        except FileNotFoundError as error:
            raise DatasetError(f"Audio file '{self._filepath}' does not exist.") from error
        except _SOUNDFILE_ERRORS as error:
            raise DatasetError(
                f"Cannot read the header of audio file '{self._filepath}' "
                f"({_reason(error)}): {_HOW_TO_FIX}."
            ) from None
        return {
            "sample_rate": int(info.samplerate),
            "channels": int(info.channels),
            "frames": int(info.frames),
            "duration_s": float(info.frames / info.samplerate),
            "format": info.format,
            **_truncation(info.extra_info),
        }

    def save(self, data: None) -> None:
        raise DatasetError(
            f"'{self._filepath}' is read-only metadata; save the audio with AudioDataset."
        )


def _truncation(header_log: str) -> dict[str, Any]:
    """Return ``truncated`` and ``problem`` from libsndfile's log of the header it parsed."""
    match = _SHORT_DATA_CHUNK.search(header_log)
    if match is None:
        return {"truncated": False, "problem": ""}
    promised, held = int(match.group(1)), int(match.group(2))
    return {
        "truncated": True,
        "problem": (
            f"its header promises {promised} bytes of audio but the file holds "
            f"{held} ({held / promised:.0%}); copy or download it again"
        ),
    }


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
        raise DatasetError(f"Audio file '{name}' is empty (0 bytes): {_HOW_TO_FIX}.")
    samples, native_rate = _decode(encoded, name, mono, (max_seconds, limit_name), sample_rate)
    if sample_rate and native_rate != sample_rate:
        samples = librosa.resample(samples, orig_sr=native_rate, target_sr=sample_rate)
    return np.ascontiguousarray(samples, dtype=np.float32)


def _read_bytes(filesystem: Any, path: str, filepath: str) -> bytes:
    """Read a whole file, turning a missing or empty one into a clear ``DatasetError``."""
    try:
        with filesystem.open(path, "rb") as stream:
            encoded = stream.read()
    except FileNotFoundError as error:
        raise DatasetError(f"Audio file '{filepath}' does not exist.") from error
    if not encoded:
        raise DatasetError(f"Audio file '{filepath}' is empty (0 bytes): {_HOW_TO_FIX}.")
    return encoded


def _check_regular(path: str, filepath: str) -> None:
    """Refuse a FIFO, a device or a dangling link, which reading would block on or fail."""
    problem = irregular_file(Path(path))
    # A missing file is left to the reader, which says that it does not exist.
    if problem and problem[0] != "unreadable":
        raise DatasetError(f"Audio file '{filepath}' is {problem[1]}.")


def _reason(error: Exception) -> str:
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
    except _SOUNDFILE_ERRORS as soundfile_error:
        samples, rate = _decode_with_audioread(encoded, name, mono, limit, soundfile_error)
    if samples.shape[-1] == 0:
        raise DatasetError(f"Audio file '{name}' holds no samples: {_HOW_TO_FIX}.")
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
            f"Cannot decode audio file '{name}' ({_reason(soundfile_error)}): {_HOW_TO_FIX}."
        ) from None
    _check_length(samples.shape[-1] / rate, name, limit)
    samples = samples if mono else np.atleast_2d(samples)
    return samples.astype(np.float32), int(rate)
