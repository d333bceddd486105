"""Files and folders as facts about them, for nodes that must not touch the disk themselves."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kedro.io import AbstractDataset, DatasetError

from gtzan_kedro.datasets._fs import FileDataset


class FileStatDataset(FileDataset[None, dict[str, Any]]):
    """One file's size and modification time, read from the file system, never the content.

    Read-only. Used as the partition dataset of a ``ClipFolderDataset`` to tell whether a raw
    clip changed since its features were computed.
    """

    def load(self) -> dict[str, Any]:
        """Return ``{"size": bytes, "mtime": modification time as the file system reports it}``."""
        info = self._filesystem.info(self._path)
        # Local files report "mtime"; object stores name it differently.
        mtime = info.get("mtime", info.get("LastModified", info.get("updated")))
        return {"size": int(info["size"]), "mtime": str(mtime)}

    def save(self, data: None) -> None:
        raise DatasetError(f"'{self._filepath}' is a read-only view of a file's size and time.")


class LocalFolderDataset(AbstractDataset[None, Path]):
    """A local folder, loaded as its absolute path, for a library that fills it itself.

    The download cache is one: the downloader needs a place for partial files and archives.
    Catalog paths are resolved against the project, so runs from anywhere agree on the folder.
    """

    def __init__(self, *, path: str, metadata: dict[str, Any] | None = None) -> None:
        self._path = Path(path)
        self.metadata = metadata

    def load(self) -> Path:
        """Return the folder's absolute path (it need not exist yet)."""
        return self._path.resolve()

    def save(self, data: None) -> None:
        raise DatasetError(f"'{self._path}' is a folder handed to a node, not data to save.")

    def _exists(self) -> bool:
        return self._path.is_dir()

    def _describe(self) -> dict[str, Any]:
        return {"path": str(self._path)}
