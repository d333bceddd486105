"""Tiny FMA-shaped copies: tracks.csv with FMA's columns and header rows, MP3 clips."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
import soundfile as sf

from gtzan_kedro.sources.generator import synthesise_clip
from tests.conftest import SAMPLE_RATE

# The columns of FMA's tracks.csv (fma_metadata.zip), under their first header row.
TRACKS_COLUMNS = {
    "album": [
        "comments", "date_created", "date_released", "engineer", "favorites", "id",
        "information", "listens", "producer", "tags", "title", "tracks", "type",
    ],
    "artist": [
        "active_year_begin", "active_year_end", "associated_labels", "bio", "comments",
        "date_created", "favorites", "id", "latitude", "location", "longitude", "members",
        "name", "related_projects", "tags", "website", "wikipedia_page",
    ],
    "set": ["split", "subset"],
    "track": [
        "bit_rate", "comments", "composer", "date_created", "date_recorded", "duration",
        "favorites", "genre_top", "genres", "genres_all", "information", "interest",
        "language_code", "license", "listens", "lyricist", "number", "publisher", "tags",
        "title",
    ],
}  # fmt: skip
# Each top genre sounds like one of the generator's styles.
STYLES = {"Rock": "rock", "Electronic": "disco", "Hip-Hop": "hiphop"}
# Per genre: three training tracks, one validation and one test track.
SPLITS = ("training", "training", "training", "validation", "test")


def mp3_bytes(style: str, index: int, seconds: float = 3.0) -> bytes:
    """A generated clip encoded as MP3 by libsndfile."""
    samples = synthesise_clip(style, index, seconds=seconds, sample_rate=SAMPLE_RATE, seed=3)
    buffer = io.BytesIO()
    sf.write(buffer, samples, SAMPLE_RATE, format="MP3", subtype="MPEG_LAYER_III")
    return buffer.getvalue()


def tracks_csv(rows: list[dict]) -> str:
    """FMA's tracks.csv text: three header rows (level, column, ``track_id``), then the rows."""
    columns = pd.MultiIndex.from_tuples(
        [(level, name) for level, names in TRACKS_COLUMNS.items() for name in names]
    )
    table = pd.DataFrame(np.nan, index=[row["track_id"] for row in rows], columns=columns)
    table = table.astype(object)
    for row in rows:
        table.loc[row["track_id"], ("track", "genre_top")] = row["genre_top"]
        table.loc[row["track_id"], ("set", "split")] = row["split"]
        table.loc[row["track_id"], ("set", "subset")] = row["subset"]
        table.loc[row["track_id"], ("track", "title")] = f"Track {row['track_id']}"
    table.index.name = "track_id"
    return table.to_csv()


def fma_copy(root: Path) -> dict[str, list[int]]:
    """Write a tiny fma_small copy under ``root``; return the track ids of each kind.

    Five tracks per genre with FMA's split, plus one without a top genre, one listed without
    audio, one whose MP3 is broken and one of the medium subset only.
    """
    rows, audio = [], {}
    track_id = 2
    kinds: dict[str, list[int]] = {"ok": [], "no_label": [], "missing": [], "broken": []}
    for genre, style in STYLES.items():
        for index, split in enumerate(SPLITS):
            rows.append(
                {"track_id": track_id, "genre_top": genre, "split": split, "subset": "small"}
            )
            audio[track_id] = mp3_bytes(style, index)
            kinds["ok"].append(track_id)
            track_id += 1
    extra = {
        "no_label": {"genre_top": np.nan, "split": "training", "subset": "small"},
        "missing": {"genre_top": "Rock", "split": "training", "subset": "small"},
        "broken": {"genre_top": "Rock", "split": "training", "subset": "small"},
        "medium": {"genre_top": "Rock", "split": "training", "subset": "medium"},
    }
    for kind, row in extra.items():
        rows.append({"track_id": track_id, **row})
        if kind != "missing":
            audio[track_id] = (
                b"\xff\xfb\x90\x00" + b"\x00" * 300 if kind == "broken" else (mp3_bytes("rock", 9))
            )
        kinds.setdefault(kind, []).append(track_id)
        track_id += 1
    (root / "fma_metadata").mkdir(parents=True)
    (root / "fma_metadata" / "tracks.csv").write_text(tracks_csv(rows))
    for number, data in audio.items():
        path = root / "fma_small" / f"{number:06d}"[:3] / f"{number:06d}.mp3"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return kinds
