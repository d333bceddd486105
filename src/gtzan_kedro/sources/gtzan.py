"""Real GTZAN from a local copy or a download, as lazy, stamped readers of each clip's bytes.

Labelled with GTZAN's ten genres in GTZAN's order, like the embedded generator's clips.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from gtzan_kedro.sources.download import fetch_archive
from gtzan_kedro.sources.gtzan_genres import GTZAN_GENRES
from gtzan_kedro.sources.local import local_path
from gtzan_kedro.sources.local_copy import open_local_copy
from gtzan_kedro.sources.registry import Collection, refused_index, source

logger = logging.getLogger(__name__)


@source("download", folder="gtzan", labels=GTZAN_GENRES, label_noun="GTZAN genre")
def download(ingestion: dict[str, Any], *, seed: int, downloads: Path | None) -> Collection:
    """GTZAN's archive fetched from ``ingestion.download.mirrors`` into ``downloads``."""
    return gtzan_clips(ingestion, downloads)


def gtzan_clips(ingestion: dict[str, Any], downloads: Path | None) -> Collection:
    """``{"<genre>/<file>": clip}`` of the local copy or download (into ``downloads``).

    Its index lists the files not taken (links leaving the folder, dangling links, FIFOs and
    devices) with their status.
    """
    if ingestion["source"] == "local":
        path = local_path(ingestion.get("local_path"))
    else:
        path = fetch_archive(ingestion["download"], downloads)
    copy = open_local_copy(path, GTZAN_GENRES)
    logger.info("Found %d GTZAN clips in the %s.", len(copy.clips), copy.describe())
    return Collection(copy.clips, refused_index(copy.refused, "gtzan"))
