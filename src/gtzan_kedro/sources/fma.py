"""The Free Music Archive (Defferrard et al., ISMIR 2017), labelled with its top genres.

A copy holds ``fma_metadata/tracks.csv`` (three header rows) and the audio of one subset,
``fma_small/`` or ``fma_medium/`` (``<3 digits>/<6 digits>.mp3``), as folders or as the zips
FMA publishes (``fma_metadata.zip``, ``fma_small.zip``); ``download: true`` fetches those zips.
A track's label is ``track.genre_top`` and its published split ``set.split``; a track of the
subset without a top genre or without its audio is listed with that status and left out.
"""

from __future__ import annotations

import logging
import re
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import IO, Any

import pandas as pd

from gtzan_kedro.errors import InputError
from gtzan_kedro.sources.download import fetch_archive
from gtzan_kedro.sources.local_copy import SourceClip, ZipMembers
from gtzan_kedro.sources.registry import SOURCE_INDEX_COLUMNS, Collection, source

logger = logging.getLogger(__name__)

# The subsets are nested: the audio of a subset holds the tracks of the smaller ones too.
SUBSETS = ("small", "medium", "large")
TRACKS_CSV = "fma_metadata/tracks.csv"
# tracks.csv's columns this source reads: (level 0, level 1) of its first two header rows.
GENRE_TOP, SUBSET, SPLIT = ("track", "genre_top"), ("set", "subset"), ("set", "split")
_AUDIO_NAME = re.compile(r"(\d{3})/(\d{6})\.mp3")


@source("fma")
def fma(ingestion: dict[str, Any], *, seed: int, downloads: Path | None) -> Collection:
    """The tracks of ``ingestion.fma.subset`` with a top genre and audio, and the FMA index."""
    settings = ingestion.get("fma") or {}
    subset = settings.get("subset")
    if subset not in SUBSETS:
        raise InputError(
            f"Invalid parameter ingestion.fma.subset={subset!r}: use one of {', '.join(SUBSETS)} "
            "(the audio folder fma_<subset>/ or fma_<subset>.zip)."
        )
    root = fetch_fma(settings, subset, downloads) if settings.get("download") else _copy(settings)
    tracks = _subset_tracks(read_tracks(root), subset)
    audio = _audio(root, subset)
    clips, rows = {}, []
    for track_id, track in tracks.iterrows():
        path = f"fma_{subset}/{track_id[:3]}/{track_id}.mp3"
        genre = track["genre_top"] if isinstance(track["genre_top"], str) else ""
        status, problem = "ok", ""
        if not genre:
            status, problem = "no_label", "tracks.csv gives it no track.genre_top (top genre)"
        elif track_id not in audio:
            status, problem = "missing", f"{path} is not in the copy: download the subset again"
        else:
            clips[f"{folder_of(genre)}/{track_id}.mp3"] = audio[track_id]
        rows.append([track_id, folder_of(genre), path, status, problem, track["split"]])
    logger.info(
        "FMA %s: %d tracks in tracks.csv, %d with a top genre and audio.",
        subset,
        len(tracks),
        len(clips),
    )
    return Collection(clips, pd.DataFrame(rows, columns=SOURCE_INDEX_COLUMNS))


def folder_of(genre: str) -> str:
    """A top genre as a folder name (``Old-Time / Historic`` -> ``Old-Time - Historic``)."""
    return genre.replace("/", "-").strip()


def read_tracks(root: Path) -> pd.DataFrame:
    """``tracks.csv`` of the copy at ``root``: top genre, subset and split of every track."""
    with _open_metadata(root) as stream:
        table = pd.read_csv(stream, index_col=0, header=[0, 1], low_memory=False)
    missing = [".".join(column) for column in (GENRE_TOP, SUBSET, SPLIT) if column not in table]
    if missing:
        raise InputError(
            f"{TRACKS_CSV} in '{root}' has no column {', '.join(missing)}: it is not FMA's "
            "tracks.csv (three header rows: track, genre_top ...). Use the file of "
            "fma_metadata.zip."
        )
    tracks = pd.DataFrame(
        {
            "genre_top": table[GENRE_TOP],
            "subset": table[SUBSET],
            "split": table[SPLIT].fillna(""),
        }
    )
    tracks.index = [f"{int(track_id):06d}" for track_id in table.index]
    return tracks


def _subset_tracks(tracks: pd.DataFrame, subset: str) -> pd.DataFrame:
    """The tracks of ``subset`` and of the smaller subsets it holds."""
    return tracks[tracks["subset"].isin(SUBSETS[: SUBSETS.index(subset) + 1])]


def _copy(settings: dict[str, Any]) -> Path:
    """The folder of the local copy that ``ingestion.fma.path`` names."""
    configured = settings.get("path")
    if not configured:
        raise InputError(
            "Parameter ingestion.fma.path is not set: name the folder holding fma_metadata/ (or "
            "fma_metadata.zip) and fma_small/ (or fma_small.zip), or set "
            "ingestion.fma.download=true to fetch them."
        )
    path = Path(configured).expanduser()
    if not path.is_dir():
        raise InputError(
            f"ingestion.fma.path='{configured}' is not a folder: name the folder holding "
            "fma_metadata/ and fma_small/ (or their zips)."
        )
    return path


@contextmanager
def _open_metadata(root: Path) -> Iterator[IO[bytes]]:
    """Open ``tracks.csv`` from ``fma_metadata/`` or ``fma_metadata.zip`` in ``root``."""
    if (root / TRACKS_CSV).is_file():
        with (root / TRACKS_CSV).open("rb") as stream:
            yield stream
        return
    if (root / "fma_metadata.zip").is_file():
        with zipfile.ZipFile(root / "fma_metadata.zip") as archive:
            if TRACKS_CSV in archive.namelist():
                with archive.open(TRACKS_CSV) as stream:
                    yield stream
                return
    raise InputError(
        f"No {TRACKS_CSV} in '{root}' (ingestion.fma.path), nor fma_metadata.zip holding it: "
        "get fma_metadata.zip from https://github.com/mdeff/fma (or set "
        "ingestion.fma.download=true)."
    )


def _audio(root: Path, subset: str) -> dict[str, SourceClip]:
    """``{track_id: clip}`` of the subset's audio, from its folder or its zip."""
    folder, archive = root / f"fma_{subset}", root / f"fma_{subset}.zip"
    if folder.is_dir():
        return {
            match.group(2): _file_clip(path)
            for path in sorted(folder.glob("*/*.mp3"))
            if (match := _AUDIO_NAME.fullmatch(path.relative_to(folder).as_posix()))
        }
    if archive.is_file():
        with zipfile.ZipFile(archive) as listing:
            infos = listing.infolist()
        reader = ZipMembers(archive)
        prefix = f"fma_{subset}/"
        return {
            match.group(2): SourceClip(
                partial(reader.read, info.filename), f"{info.file_size}:{info.CRC:08x}"
            )
            for info in infos
            if info.filename.startswith(prefix)
            and (match := _AUDIO_NAME.fullmatch(info.filename.removeprefix(prefix)))
        }
    raise InputError(
        f"No fma_{subset}/ folder nor fma_{subset}.zip in '{root}' (ingestion.fma.path, "
        f"ingestion.fma.subset={subset}): get fma_{subset}.zip from https://github.com/mdeff/fma "
        "or set ingestion.fma.download=true."
    )


def _file_clip(path: Path) -> SourceClip:
    """A file as a clip stamped with its size and modification time."""
    status = path.stat()
    return SourceClip(path.read_bytes, f"{status.st_size}:{status.st_mtime_ns}")


def fetch_fma(settings: dict[str, Any], subset: str, downloads: Path | None) -> Path:
    """Download ``fma_metadata.zip`` and the subset's zip into ``downloads``, checksum-checked."""
    if downloads is None:
        raise InputError("ingestion.fma.download=true needs the catalog's downloads folder.")
    for name in ("metadata", subset):
        _fetch_one(settings, downloads, name)
    return downloads


def _fetch_one(settings: dict[str, Any], downloads: Path, name: str) -> Path:
    """One FMA zip, through the project's resumable, hash-checked download."""
    checksums = settings.get("checksums") or {}
    return fetch_archive(
        {
            "mirrors": [f"{settings['url'].rstrip('/')}/fma_{name}.zip"],
            "filename": f"fma_{name}.zip",
            "checksum": checksums.get(name),
            "timeout_s": settings.get("timeout_s", 60),
            "attempts": settings.get("attempts", 3),
        },
        downloads,
        what="FMA",
        parameter="ingestion.fma",
        checksum_parameter=f"ingestion.fma.checksums.{name}",
    )
