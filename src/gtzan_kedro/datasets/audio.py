"""Audio clips as Kedro datasets: decoded samples, and header-only metadata."""

from __future__ import annotations

import io
import re
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np
import soundfile as sf
from kedro.io import DatasetError

from gtzan_kedro.audio_decoding import (
    DEFAULT_MAX_SECONDS,
    HOW_TO_FIX,
    SOUNDFILE_ERRORS,
    decode_audio,
    soundfile_reason,
)
from gtzan_kedro.datasets._fs import FileDataset, write_atomically
from gtzan_kedro.regular_files import irregular_file

# libsndfile's header log for a data chunk cut short: "data : 44100 (should be 22028)".
_SHORT_DATA_CHUNK = re.compile(r"^\s*(?:data|Data Size|SSND)\s*:\s*(\d+) \(should be (\d+)\)", re.M)


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
                    f"Audio file '{self._filepath}' is empty (0 bytes): {HOW_TO_FIX}."
                )
            with self._filesystem.open(self._path, "rb") as stream:
                info = sf.info(stream)
        except FileNotFoundError as error:
            raise DatasetError(f"Audio file '{self._filepath}' does not exist.") from error
        except SOUNDFILE_ERRORS as error:
            raise DatasetError(
                f"Cannot read the header of audio file '{self._filepath}' "
                f"({soundfile_reason(error)}): {HOW_TO_FIX}."
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


def _read_bytes(filesystem: Any, path: str, filepath: str) -> bytes:
    """Read a whole file, turning a missing or empty one into a clear ``DatasetError``."""
    try:
        with filesystem.open(path, "rb") as stream:
            encoded = stream.read()
    except FileNotFoundError as error:
        raise DatasetError(f"Audio file '{filepath}' does not exist.") from error
    if not encoded:
        raise DatasetError(f"Audio file '{filepath}' is empty (0 bytes): {HOW_TO_FIX}.")
    return encoded


def _check_regular(path: str, filepath: str) -> None:
    """Refuse a FIFO, a device or a dangling link, which reading would block on or fail."""
    problem = irregular_file(Path(path))
    # A missing file is left to the reader, which says that it does not exist.
    if problem and problem[0] != "unreadable":
        raise DatasetError(f"Audio file '{filepath}' is {problem[1]}.")
