"""Audio clips as Kedro datasets: decoded samples, and header-only metadata."""

from __future__ import annotations

import io
from pathlib import PurePosixPath
from typing import Any

import librosa
import numpy as np
import soundfile as sf
from kedro.io import DatasetError

from gtzan_kedro.datasets._fs import FileDataset, write_atomically

_HOW_TO_FIX = "re-download or re-export the file, or delete it to leave it out"


class AudioDataset(FileDataset[np.ndarray | bytes, np.ndarray]):
    """One audio file, loaded as float32 mono samples at ``sample_rate``.

    Any format libsndfile reads (WAV, AU, FLAC, OGG, MP3 ...) is decoded; anything else is
    tried through librosa's audioread fallback. Stereo is averaged to mono and other sample
    rates are resampled, so every clip reaches the pipeline in the same shape.

    Saving takes either samples (a float array in [-1, 1], written as 16-bit PCM at
    ``sample_rate`` in the format the extension names) or ``bytes`` of an already encoded
    file, written unchanged. Writes go to a temporary file that is renamed into place.

    Example catalog entry::

        clip:
          type: gtzan_kedro.datasets.AudioDataset
          filepath: data/01_raw/gtzan/blues/blues.00000.wav
          sample_rate: 22050
    """

    def __init__(
        self,
        *,
        filepath: str,
        sample_rate: int | None = 22050,
        mono: bool = True,
        subtype: str = "PCM_16",
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

    def load(self) -> np.ndarray:
        """Decode the file to float32 samples, mono and resampled as configured."""
        encoded = _read_bytes(self._filesystem, self._path, self._filepath)
        return decode_audio(encoded, self._filepath, self._sample_rate, mono=self._mono)

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
        return {**super()._describe(), "sample_rate": self._sample_rate, "mono": self._mono}


class AudioMetadataDataset(FileDataset[None, dict[str, Any]]):
    """One audio file's header: sample rate, channels, frames and duration, without decoding.

    Read-only; a file that cannot be parsed raises ``DatasetError`` naming it.
    """

    def load(self) -> dict[str, Any]:
        """Return ``sample_rate``, ``channels``, ``frames``, ``duration_s`` and ``format``."""
        encoded = _read_bytes(self._filesystem, self._path, self._filepath)
        try:
            info = sf.info(io.BytesIO(encoded))
            return {
                "sample_rate": int(info.samplerate),
                "channels": int(info.channels),
                "frames": int(info.frames),
                "duration_s": float(info.frames / info.samplerate),
                "format": info.format,
            }
        except (sf.LibsndfileError, RuntimeError, TypeError):
            # Formats libsndfile cannot parse: fall back to decoding once.
            samples, rate = _decode(encoded, self._filepath)
            return {
                "sample_rate": rate,
                "channels": int(samples.shape[1]),
                "frames": int(samples.shape[0]),
                "duration_s": float(samples.shape[0] / rate),
                "format": PurePosixPath(self._path).suffix.lstrip(".").upper(),
            }

    def save(self, data: None) -> None:
        raise DatasetError(
            f"'{self._filepath}' is read-only metadata; save the audio with AudioDataset."
        )


def decode_audio(
    encoded: bytes, name: str, sample_rate: int | None, *, mono: bool = True
) -> np.ndarray:
    """Decode an encoded file to float32 samples, mono and resampled like every loaded clip.

    Shared by ``AudioDataset`` and the serving pipeline, which receives files as bytes.
    Raises ``DatasetError`` naming ``name`` when the bytes are empty or not audio.
    """
    if not encoded:
        raise DatasetError(f"Audio file '{name}' is empty (0 bytes): {_HOW_TO_FIX}.")
    samples, native_rate = _decode(encoded, name)
    samples = samples.mean(axis=1) if mono else samples.T
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


def _decode(encoded: bytes, filepath: str) -> tuple[np.ndarray, int]:
    """Decode to ``(frames, channels)`` float32 and the native rate, or raise ``DatasetError``."""
    try:
        samples, rate = sf.read(io.BytesIO(encoded), dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, TypeError) as soundfile_error:
        try:
            # audioread (ffmpeg, gstreamer ...) covers what libsndfile cannot read.
            samples, rate = librosa.load(io.BytesIO(encoded), sr=None, mono=False)
        except Exception:  # noqa: BLE001 - any decoder failure means unreadable
            reason = getattr(soundfile_error, "error_string", None) or str(soundfile_error)
            raise DatasetError(
                f"Cannot decode audio file '{filepath}' ({reason.rstrip('.')}): {_HOW_TO_FIX}."
            ) from None
        samples = np.atleast_2d(samples).T.astype(np.float32)
    if samples.shape[0] == 0:
        raise DatasetError(f"Audio file '{filepath}' holds no samples: {_HOW_TO_FIX}.")
    return samples, int(rate)
