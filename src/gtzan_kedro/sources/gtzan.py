"""Real GTZAN from a local copy or a download, as lazy, stamped readers of each clip's bytes."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from gtzan_kedro.errors import InputError
from gtzan_kedro.sources.download import fetch_archive
from gtzan_kedro.sources.local_copy import SourceClip, open_local_copy

logger = logging.getLogger(__name__)

_LOCAL_RUN = 'kedro run --params "ingestion.source=local,ingestion.local_path=/path/to/gtzan"'


def gtzan_clips(
    ingestion: dict[str, Any], downloads: Path | None
) -> tuple[dict[str, SourceClip], dict[str, tuple[str, str]]]:
    """Return ``{"<genre>/<file>": clip}`` of the local copy or download (into ``downloads``).

    And ``{"<genre>/<file>": (status, problem)}`` of the files not taken (links leaving the
    folder, dangling links, FIFOs and devices).
    """
    if ingestion["source"] == "local":
        path = local_path(ingestion.get("local_path"))
    else:
        path = fetch_archive(ingestion["download"], downloads)
    copy = open_local_copy(path)
    logger.info("Found %d GTZAN clips in the %s.", len(copy.clips), copy.describe())
    return copy.clips, copy.refused


def local_path(configured: str | None) -> Path:
    """Return the existing path that ``ingestion.local_path`` names."""
    if not configured:
        raise InputError(
            "Parameter ingestion.local_path is not set: with ingestion.source=local it must name "
            f"a GTZAN copy on disk (archive or folder), e.g. `{_LOCAL_RUN}`."
        )
    path = Path(configured).expanduser()
    if not path.exists():
        raise InputError(
            f"ingestion.local_path='{configured}' does not exist: point it at GTZAN on disk "
            f"(genres.tar.gz, the Kaggle zip or an extracted folder), e.g. `{_LOCAL_RUN}`."
        )
    return path
