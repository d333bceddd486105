"""fsspec helpers shared by the custom datasets."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import PurePosixPath
from typing import IO, Any, TypeVar

import fsspec
from kedro.io import AbstractDataset
from kedro.io.core import get_protocol_and_path

_Saved = TypeVar("_Saved")
_Loaded = TypeVar("_Loaded")


def filesystem_for(
    filepath: str, fs_args: dict[str, Any] | None = None, credentials: dict[str, Any] | None = None
) -> tuple[fsspec.AbstractFileSystem, str, str]:
    """Return ``(filesystem, protocol, path)`` for a Kedro-style file path."""
    protocol, path = get_protocol_and_path(filepath)
    filesystem = fsspec.filesystem(protocol, **(credentials or {}), **(fs_args or {}))
    return filesystem, protocol, path


def write_atomically(
    filesystem: fsspec.AbstractFileSystem, path: str, write: Callable[[IO[bytes]], None]
) -> None:
    """Write through ``write`` into a temporary sibling, then rename it over ``path``.

    A crash or a failing writer leaves any existing file at ``path`` untouched.
    """
    parent = str(PurePosixPath(path).parent)
    filesystem.makedirs(parent, exist_ok=True)
    temporary = f"{parent}/.{PurePosixPath(path).name}.{uuid.uuid4().hex}.tmp"
    try:
        with filesystem.open(temporary, "wb") as stream:
            write(stream)
        filesystem.mv(temporary, path)
    finally:
        if filesystem.exists(temporary):
            filesystem.rm(temporary)


class FileDataset(AbstractDataset[_Saved, _Loaded]):
    """Base of the project's one-file datasets: the fsspec path, existence and description."""

    def __init__(
        self,
        *,
        filepath: str,
        fs_args: dict[str, Any] | None = None,
        credentials: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        self._filesystem, self._protocol, self._path = filesystem_for(
            filepath, fs_args, credentials
        )
        self._filepath = filepath
        self.metadata = metadata

    def _exists(self) -> bool:
        return self._filesystem.exists(self._path)

    def _describe(self) -> dict[str, Any]:
        return {"filepath": self._filepath}
