"""Audio files named by the user (paths, folders or glob patterns), decoded one by one on access."""

from __future__ import annotations

import glob
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np
from kedro.io import AbstractDataset, DatasetError

from gtzan_kedro.audio_decoding import DEFAULT_MAX_SECONDS
from gtzan_kedro.audio_formats import AUDIO_EXTENSIONS
from gtzan_kedro.datasets.audio import AudioDataset


class AudioFilesDataset(AbstractDataset[None, dict[str, Callable[[], np.ndarray]]]):
    """Local audio files loaded as ``{path: load}``, each ``load`` decoding one file.

    ``filepaths`` is one entry or a list of them, each a file, a folder (its audio files, by
    extension, recursively) or a glob pattern. Files are decoded by ``AudioDataset``: float32
    mono at ``sample_rate``, like the training clips; one longer than ``max_seconds`` is
    refused from its header before decoding (the message names ``inference.max_seconds``,
    the parameter that sets it). Nothing is decoded until a ``load`` is
    called, so a caller can go through many long files one at a time.

    An entry that cannot be read still gets a ``load``, which raises ``DatasetError`` saying
    why (missing file, empty file, not audio, pattern matching nothing), so that the caller
    can report it beside the files that worked. Read-only.

    Example catalog entry (files given at run time with ``--params inference.files=song.mp3``)::

        audio_files:
          type: gtzan_kedro.datasets.audio_files.AudioFilesDataset
          filepaths: ${runtime_params:inference.files, []}
          sample_rate: ${globals:sample_rate}
    """

    def __init__(
        self,
        *,
        filepaths: str | Iterable[str] = (),
        sample_rate: int = 22050,
        max_seconds: float | None = DEFAULT_MAX_SECONDS,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        self._filepaths = [filepaths] if isinstance(filepaths, str) else [str(p) for p in filepaths]
        self._sample_rate = sample_rate
        self._max_seconds = max_seconds
        self.metadata = metadata

    def load(self) -> dict[str, Callable[[], np.ndarray]]:
        """Return ``{path: load}`` for every file the entries name, in the order given."""
        loaders: dict[str, Callable[[], np.ndarray]] = {}
        for entry in self._filepaths:
            paths = _expand(entry)
            if not paths:
                loaders[entry] = _failing(f"No audio file in or matching '{entry}'.")
            for path in paths:
                loaders[path] = _loader(path, self._sample_rate, self._max_seconds)
        return loaders

    def save(self, data: None) -> None:
        raise DatasetError("The audio files to classify are read-only.")

    def _exists(self) -> bool:
        return bool(self._filepaths)

    def _describe(self) -> dict[str, Any]:
        return {
            "filepaths": self._filepaths,
            "sample_rate": self._sample_rate,
            "max_seconds": self._max_seconds,
        }


def _expand(entry: str) -> list[str]:
    """The files an entry names: itself, a folder's audio files, or a pattern's matches."""
    path = Path(entry).expanduser()
    if path.is_dir():
        return sorted(
            str(file)
            for file in path.rglob("*")
            if file.is_file() and file.suffix.lower() in AUDIO_EXTENSIONS
        )
    if glob.has_magic(entry):
        return sorted(
            match for match in glob.glob(str(path), recursive=True) if Path(match).is_file()
        )
    # A missing file is kept: loading it says that it does not exist.
    return [entry]


def _loader(path: str, sample_rate: int, max_seconds: float | None) -> Callable[[], np.ndarray]:
    """Decode ``path`` on call, with any error reading it raised as ``DatasetError``."""
    dataset = AudioDataset(
        filepath=str(Path(path).expanduser()),
        sample_rate=sample_rate,
        max_seconds=max_seconds,
        max_seconds_parameter="inference.max_seconds",
    )

    def load() -> np.ndarray:
        try:
            return dataset.load()
        except DatasetError as error:
            # Kedro wraps unexpected errors in the dataset's whole description; a file that
            # cannot be read (no permission ...) only needs the reason. A missing one already
            # has a clear message.
            cause = error.__cause__
            if isinstance(cause, OSError) and not isinstance(cause, FileNotFoundError):
                raise DatasetError(f"Cannot read '{path}': {cause.strerror or cause}.") from None
            raise

    return load


def _failing(message: str) -> Callable[[], np.ndarray]:
    """A ``load`` that raises ``DatasetError(message)``."""

    def load() -> np.ndarray:
        raise DatasetError(message)

    return load
