"""NumPy arrays as ``.npy`` files that can be memory-mapped on load."""

from __future__ import annotations

import functools
from typing import IO, Any, Literal

import numpy as np

from gtzan_kedro.arrays import ChunkedArray
from gtzan_kedro.datasets._fs import FileDataset, write_atomically


class NumpyArrayDataset(FileDataset[np.ndarray | ChunkedArray, np.ndarray]):
    """One array in NumPy's ``.npy`` format.

    With ``mmap_mode`` (``"r"`` by default) a local file is memory-mapped rather than read,
    so a feature set larger than memory can be sliced batch by batch. Remote files are read
    whole. Saves are atomic (temporary file, then rename); a :class:`ChunkedArray` is written
    chunk by chunk, never held whole.
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

    def save(self, data: np.ndarray | ChunkedArray) -> None:
        """Write ``data`` as ``.npy`` atomically."""
        if isinstance(data, ChunkedArray):
            write = functools.partial(_write_chunks, array=data)
        else:
            write = functools.partial(np.save, arr=np.asarray(data), allow_pickle=False)
        write_atomically(self._filesystem, self._path, write)

    def _describe(self) -> dict[str, Any]:
        return {**super()._describe(), "mmap_mode": self._mmap_mode}


def _write_chunks(stream: IO[bytes], array: ChunkedArray) -> None:
    """Write the ``.npy`` header of ``array``, then its chunks one after the other."""
    dtype = np.dtype(array.dtype)
    header = {"descr": np.lib.format.dtype_to_descr(dtype), "fortran_order": False}
    np.lib.format.write_array_header_1_0(stream, {**header, "shape": tuple(array.shape)})
    rows = 0
    for chunk in array.chunks:
        chunk = np.ascontiguousarray(chunk, dtype=dtype)  # noqa: PLW2901 - same data, C order
        if chunk.shape[1:] != tuple(array.shape[1:]):
            raise ValueError(f"A chunk of shape {chunk.shape} does not fit an array {array.shape}.")
        stream.write(chunk.tobytes())
        rows += len(chunk)
    if rows != array.shape[0]:
        raise ValueError(f"The chunks hold {rows} rows; the array announced {array.shape[0]}.")
