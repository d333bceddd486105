"""A folder of clips that is filled incrementally: existing files are never rewritten."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from kedro.io import DatasetError
from kedro_datasets.partitions import PartitionedDataset
from tqdm.auto import tqdm

logger = logging.getLogger(__name__)


class ClipFolderDataset(PartitionedDataset):
    """``PartitionedDataset`` for the raw audio folder.

    Loading an empty or missing folder gives ``{}`` (the caller explains how to get data).
    Saving skips every partition whose file already exists, so a second run does not
    regenerate, re-download or re-copy clips, and an interrupted one resumes where it
    stopped. Lazy partitions (callables) are only called for files that are missing.
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
        """Write only the partitions that are not on disk yet, with a progress bar."""
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
        # disable=None: no bar when the output is not a terminal (logs, CI).
        progress = tqdm(sorted(missing), desc="Writing clips", unit="clip", delay=2, disable=None)
        for partition_id in progress:
            super().save({partition_id: missing[partition_id]})
