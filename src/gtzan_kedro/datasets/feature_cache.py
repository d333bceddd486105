"""Per-track features kept between runs, each with the fingerprint of what it was computed from.

A feature file is reused while its fingerprint (the raw file's path, size and modification
time, and the feature parameters) is unchanged, so a second run does not decode the audio
again. The fingerprints live beside the features in ``fingerprints.json``; the node that
computes features reads them through :class:`FeatureFingerprintsDataset`, a read-only view of
the same folder, and so stays free of file I/O.
"""

from __future__ import annotations

import json
from typing import Any

from kedro.io import AbstractDataset, DatasetError
from kedro_datasets.partitions import PartitionedDataset

from gtzan_kedro.datasets._fs import filesystem_for, write_atomically

FINGERPRINTS_FILE = "fingerprints.json"


class FeatureCacheDataset(PartitionedDataset):
    """A ``PartitionedDataset`` of per-track features that only ever adds or replaces tracks.

    Loading is ``PartitionedDataset``'s: ``{track_id: load}`` for every feature file (arrays
    memory-mapped by ``NumpyArrayDataset``). Saving takes
    ``{track_id: {"fingerprint": str, "features": data}}`` for the tracks that were
    (re)computed; other tracks' files and fingerprints are left as they are. Repeated saves
    (one per chunk of a generator node) add to what earlier ones wrote.

    Example catalog entry::

        "{feature_set}.track_features":
          type: gtzan_kedro.datasets.FeatureCacheDataset
          path: data/04_feature/{feature_set}
          filename_suffix: .npy
          dataset:
            type: gtzan_kedro.datasets.NumpyArrayDataset
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._index_path = f"{self._normalized_path.rstrip('/')}/{FINGERPRINTS_FILE}"
        self._fingerprints: dict[str, str] | None = None  # read on the first save

    def save(self, data: dict[str, dict[str, Any]]) -> None:
        """Write the given tracks' features, then record their fingerprints.

        Called once per chunk by a generator node: the index is read once per dataset and
        rewritten (atomically) once per chunk, never re-read.
        """
        if not data:
            return  # every track was reused: leave the folder exactly as it is
        if self._fingerprints is None:
            self._fingerprints = _read_fingerprints(self._filesystem, self._index_path)
        fingerprints = self._fingerprints
        # Forget the tracks first: a crash while their files are rewritten must not leave an
        # old fingerprint vouching for a new (or half-written) file.
        stale = [fingerprints.pop(track_id) for track_id in data if track_id in fingerprints]
        if stale:
            _write_fingerprints(self._filesystem, self._index_path, fingerprints)
        super().save({track_id: entry["features"] for track_id, entry in data.items()})
        fingerprints.update({track_id: entry["fingerprint"] for track_id, entry in data.items()})
        _write_fingerprints(self._filesystem, self._index_path, fingerprints)


class FeatureFingerprintsDataset(AbstractDataset[None, dict[str, str]]):
    """Read-only ``{track_id: fingerprint}`` of a :class:`FeatureCacheDataset` folder.

    Only tracks whose feature file exists are listed; a folder without fingerprints gives
    ``{}`` (nothing cached yet).
    """

    def __init__(
        self,
        *,
        path: str,
        filename_suffix: str = "",
        fs_args: dict[str, Any] | None = None,
        credentials: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        self._filesystem, self._protocol, self._folder = filesystem_for(path, fs_args, credentials)
        self._folder = self._folder.rstrip("/")
        self._path = path
        self._filename_suffix = filename_suffix
        self.metadata = metadata

    def load(self) -> dict[str, str]:
        """Return the fingerprint of every cached track that still has its feature file."""
        fingerprints = _read_fingerprints(self._filesystem, f"{self._folder}/{FINGERPRINTS_FILE}")
        if not fingerprints:
            return {}
        present = set(self._filesystem.ls(self._folder, detail=False))
        return {
            track_id: fingerprint
            for track_id, fingerprint in fingerprints.items()
            if f"{self._folder}/{track_id}{self._filename_suffix}" in present
        }

    def save(self, data: None) -> None:
        raise DatasetError(
            f"'{self._path}' fingerprints are read-only here; they are written with the features."
        )

    def _exists(self) -> bool:
        return self._filesystem.exists(f"{self._folder}/{FINGERPRINTS_FILE}")

    def _describe(self) -> dict[str, Any]:
        return {"path": self._path, "filename_suffix": self._filename_suffix}


def _read_fingerprints(filesystem: Any, path: str) -> dict[str, str]:
    """Return the fingerprints file's content, ``{}`` when there is none or it is unreadable."""
    if not filesystem.exists(path):
        return {}
    try:
        with filesystem.open(path, "r") as stream:
            fingerprints = json.load(stream)
    except (OSError, ValueError):
        return {}  # a damaged index only costs one recomputation
    return fingerprints if isinstance(fingerprints, dict) else {}


def _write_fingerprints(filesystem: Any, path: str, fingerprints: dict[str, str]) -> None:
    """Write the fingerprints file atomically."""
    encoded = json.dumps(fingerprints, indent=0, sort_keys=True).encode()
    write_atomically(filesystem, path, lambda stream: stream.write(encoded))
