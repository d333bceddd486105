"""Any labelled collection on disk: one folder per label, as a folder or an archive.

The labels are the folder names found (sorted), or ``ingestion.labels`` to fix their order
or keep only some: clips in other folders are listed in the track table and left out.
"""

from __future__ import annotations

import logging
from pathlib import Path, PurePosixPath
from typing import Any

from gtzan_kedro.errors import InputError
from gtzan_kedro.labels import configured_labels
from gtzan_kedro.sources.local_copy import open_local_copy
from gtzan_kedro.sources.registry import Collection, refused_index, source

logger = logging.getLogger(__name__)

_LOCAL_RUN = 'kedro run --params "ingestion.source=local,ingestion.local_path=/path/to/music"'


@source("local", folder="gtzan")
def local(ingestion: dict[str, Any], *, seed: int, downloads: Path | None) -> Collection:
    """``{"<label>/<file>": clip}`` of the copy at ``ingestion.local_path``, and the files it
    did not take (links leaving the folder, FIFOs, devices) in its index."""
    path = local_path(ingestion.get("local_path"))
    labels = configured_labels(ingestion)
    copy = open_local_copy(path, label_folders=labels)
    if labels:
        found = {PurePosixPath(key).parts[0] for key in copy.clips if "/" in key}
        missing = [label for label in labels if label not in found]
        if missing:
            raise InputError(
                f"ingestion.labels names {', '.join(repr(label) for label in missing)}, which "
                f"has no folder of audio files in '{path}' (folders found: "
                f"{', '.join(sorted(found)) or 'none'}): fix the list or add the folder."
            )
    logger.info("Found %d clips in the %s.", len(copy.clips), copy.describe())
    return Collection(copy.clips, refused_index(copy.refused, "gtzan"))


def local_path(configured: str | None) -> Path:
    """Return the existing path that ``ingestion.local_path`` names."""
    if not configured:
        raise InputError(
            "Parameter ingestion.local_path is not set: with ingestion.source=local it must name "
            f"a collection on disk (archive or folder), e.g. `{_LOCAL_RUN}`."
        )
    path = Path(configured).expanduser()
    if not path.exists():
        raise InputError(
            f"ingestion.local_path='{configured}' does not exist: point it at the collection on "
            f"disk (a folder of label folders, a zip or tar archive, GTZAN's genres.tar.gz), e.g. "
            f"`{_LOCAL_RUN}`."
        )
    return path
