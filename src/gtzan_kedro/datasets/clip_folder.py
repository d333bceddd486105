"""A folder of clips filled incrementally, mirroring the source it was filled from."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Iterator
from pathlib import PurePosixPath
from typing import Any

from kedro.io import DatasetError
from kedro_datasets.partitions import PartitionedDataset

from gtzan_kedro.datasets._fs import write_atomically
from gtzan_kedro.progress import progress_bar

logger = logging.getLogger(__name__)

MANIFEST_NAME = ".manifest.json"


class ClipFolderDataset(PartitionedDataset):
    """``PartitionedDataset`` for the raw audio folder.

    Loading an empty or missing folder gives ``{}`` (the caller explains how to get data);
    hidden files (the manifest, unfinished writes) are not partitions.

    Saving never rewrites a file needlessly, so a second run does not regenerate, re-download
    or re-copy clips, and an interrupted one resumes where it stopped:

    - partitions that are plain values or callables (the generator's clips) are written only
      when their file is missing;
    - partitions with a ``stamp`` (a real GTZAN copy's clips, see ``SourceClip``) make their
      top folder (``gtzan/``) a mirror of the source: ``<folder>/.manifest.json`` records each
      file's size, sha256 and stamp; a clip whose stamp changed is read, and written again if
      its content did; files the source no longer holds are deleted; the log says what changed.
    """

    def load(self) -> dict[str, Callable[[], Any]]:
        """Return ``{partition_id: load}`` for every file, or ``{}`` when there is none."""
        if not self._filesystem.exists(self._normalized_path):
            return {}
        try:
            return super().load()
        except DatasetError:
            if self._list_partitions():
                raise
            return {}

    def save(self, data: dict[str, Any]) -> None:
        """Write missing partitions, and mirror each folder of stamped ones, with a progress bar."""
        stamped = {pid: part for pid, part in data.items() if hasattr(part, "stamp")}
        self._save_missing({pid: part for pid, part in data.items() if pid not in stamped})
        for folder in sorted({pid.split("/", 1)[0] for pid in stamped}):
            self._mirror(
                folder, {pid: part for pid, part in stamped.items() if pid.startswith(f"{folder}/")}
            )

    def _list_partitions(self) -> list[str]:
        return [
            path
            for path in super()._list_partitions()
            if not PurePosixPath(path).name.startswith(".")
        ]

    def _save_missing(self, data: dict[str, Any]) -> None:
        """Write only the partitions that are not on disk yet."""
        if not data:
            return
        missing = {
            partition_id: partition
            for partition_id, partition in data.items()
            if not self._filesystem.exists(self._partition_to_path(partition_id))
        }
        logger.info(
            "Raw clips in '%s': %d already present, %d to write.",
            self._path,
            len(data) - len(missing),
            len(missing),
        )
        for partition_id in _progress(sorted(missing)):
            super().save({partition_id: missing[partition_id]})

    def _mirror(self, folder: str, clips: dict[str, Any]) -> None:
        """Make ``folder`` hold exactly ``clips``, taking again those that changed."""
        manifest_path = f"{self._normalized_path}/{folder}/{MANIFEST_NAME}"
        recorded = self._read_manifest(manifest_path)
        on_disk = {
            self._path_to_partition(path)
            for path in self._list_partitions()
            if self._path_to_partition(path).startswith(f"{folder}/")
        }
        manifest, changes = {}, {"added": [], "changed": []}
        for partition_id in _progress(sorted(clips)):
            entry, change = self._take(partition_id, clips[partition_id], recorded, on_disk)
            manifest[partition_id] = entry
            if change:
                changes[change].append(partition_id)
        changes["removed"] = sorted(on_disk - set(clips))
        for partition_id in changes["removed"]:
            self._filesystem.rm(self._partition_to_path(partition_id))
        self._invalidate_caches()
        text = json.dumps(manifest, indent=1, sort_keys=True)
        write_atomically(
            self._filesystem, manifest_path, lambda stream: stream.write(text.encode())
        )
        _log_changes(f"{self._path}/{folder}", len(clips), changes)

    def _take(
        self, partition_id: str, clip: Any, recorded: dict[str, Any], on_disk: set[str]
    ) -> tuple[dict[str, Any], str | None]:
        """Write one clip unless the raw folder holds it already; return its entry and change."""
        entry = recorded.get(partition_id)
        path = self._partition_to_path(partition_id)
        present = partition_id in on_disk
        if present and entry and entry["stamp"] == clip.stamp:
            if self._filesystem.size(path) == entry["size"]:
                return entry, None
        data = clip()
        new_entry = {"size": len(data), "sha256": _sha256(data), "stamp": clip.stamp}
        if present:
            # No manifest entry (an interrupted run): the file on disk is the reference.
            known = entry["sha256"] if entry else _sha256(self._filesystem.cat_file(path))
            if known == new_entry["sha256"] and self._filesystem.size(path) == len(data):
                return new_entry, None
        super().save({partition_id: data})
        return new_entry, "changed" if present else "added"

    def _read_manifest(self, manifest_path: str) -> dict[str, Any]:
        """Return the manifest's entries, or ``{}`` when there is none yet."""
        if not self._filesystem.exists(manifest_path):
            return {}
        try:
            return json.loads(self._filesystem.cat_file(manifest_path))
        except ValueError:
            logger.warning("Ignored the unreadable '%s': every clip is checked.", manifest_path)
            return {}


def _sha256(data: bytes) -> str:
    """Return the hex sha256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def _progress(items: list[str]) -> Iterator[str]:
    """Wrap a loop over clips in a progress bar shown only in a terminal after 2 s."""
    with progress_bar(iterable=items, desc="Writing clips", unit="clip", delay=2) as bar:
        yield from bar


def _log_changes(folder: str, total: int, changes: dict[str, list[str]]) -> None:
    """Log what mirroring changed in ``folder``: a summary, then one line per change."""
    unchanged = total - len(changes["added"]) - len(changes["changed"])
    logger.info(
        "Raw clips in '%s' mirror the source: %d unchanged, %d added, %d changed (taken "
        "again), %d removed (no longer in the source).",
        folder,
        unchanged,
        len(changes["added"]),
        len(changes["changed"]),
        len(changes["removed"]),
    )
    for partition_id in changes["changed"]:
        logger.info("Took '%s' again: it changed in the source.", partition_id)
    for partition_id in changes["removed"]:
        logger.info("Removed '%s': the source no longer holds it.", partition_id)
