"""NumPy arrays as ``.npy`` files that can be memory-mapped on load."""

from __future__ import annotations

from typing import Any, Literal

import numpy as np

from gtzan_kedro.datasets._fs import FileDataset, write_atomically


class NumpyArrayDataset(FileDataset[np.ndarray, np.ndarray]):
    """One array in NumPy's ``.npy`` format.

    With ``mmap_mode`` (``"r"`` by default) a local file is memory-mapped rather than read,
    so a feature set larger than memory can be sliced batch by batch. Remote files are read
    whole. Saves are atomic (temporary file, then rename).
    """

    def __init__(
        self,
        *,
        filepath: str,
        mmap_mode: Literal["r", "r+", "c"] | None = "r",
        fs_args: dict[str, Any] | None = None,
        credentials: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(
            filepath=filepath, fs_args=fs_args, credentials=credentials, metadata=metadata
        )
        self._mmap_mode = mmap_mode

    def load(self) -> np.ndarray:
        """Return the array, memory-mapped when the file is local and ``mmap_mode`` is set."""
        if self._protocol == "file" and self._mmap_mode:
            return np.load(self._path, mmap_mode=self._mmap_mode, allow_pickle=False)
        with self._filesystem.open(self._path, "rb") as stream:
            return np.load(stream, allow_pickle=False)

    def save(self, data: np.ndarray) -> None:
        """Write ``data`` as ``.npy`` atomically."""
        write_atomically(
            self._filesystem,
            self._path,
            lambda stream: np.save(stream, np.asarray(data), allow_pickle=False),
        )

    def _describe(self) -> dict[str, Any]:
        return {**super()._describe(), "mmap_mode": self._mmap_mode}
