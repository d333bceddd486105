"""Ingestion nodes: acquire raw clips, list them in a track table, summarise and plot them."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import Any

import librosa
import librosa.display
import numpy as np
import pandas as pd
from kedro.io import DatasetError
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from gtzan_kedro.audio_checks import DEFAULT_CHECKS, not_finite, silent, too_short
from gtzan_kedro.errors import InputError
from gtzan_kedro.genres import AUDIO_EXTENSIONS, GENRES, label_of
from gtzan_kedro.sources.generator import generated_clips
from gtzan_kedro.sources.gtzan import gtzan_clips

logger = logging.getLogger(__name__)

# Each source fills its own folder under the raw layer, so switching sources never mixes
# generated clips with real ones.
SOURCE_FOLDERS = {"generated": "generated", "local": "gtzan", "download": "gtzan"}

TRACK_TABLE_COLUMNS = [
    "track_id",
    "genre",
    "label",
    "path",
    "duration_s",
    "sample_rate",
    "channels",
    "status",
    "problem",
]


def source_folder(ingestion: dict[str, Any]) -> str:
    """Return the raw-layer folder of the configured ``ingestion.source``."""
    source = ingestion.get("source")
    if source not in SOURCE_FOLDERS:
        raise InputError(
            f"Unknown parameter value ingestion.source={source!r}: "
            f"use one of {', '.join(SOURCE_FOLDERS)} (conf/base/parameters_ingestion.yml)."
        )
    return SOURCE_FOLDERS[source]


def acquire_clips(
    ingestion: dict[str, Any], seed: int, downloads: Path | None = None
) -> tuple[dict[str, Callable[[], Any]], list[dict[str, str]]]:
    """Return the source's clips as lazy partitions of the raw folder, and the files refused.

    A refused file (a link leaving the source folder, a dangling link, a FIFO or a device) is
    never read; it is listed with its ``path``, ``status`` and ``problem`` for the track table.
    """
    folder = source_folder(ingestion)
    refused = {}
    if ingestion["source"] == "generated":
        generator = ingestion["generator"]
        clips = generated_clips(
            clips_per_genre=generator["clips_per_genre"],
            clip_seconds=generator["clip_seconds"],
            sample_rate=generator["sample_rate"],
            seed=seed,
        )
    else:
        # Real GTZAN: each clip's bytes unchanged (an .au stays .au), read when it is written.
        clips, refused = gtzan_clips(ingestion, downloads)
    problems = [
        {"path": f"{folder}/{key}", "status": status, "problem": problem}
        for key, (status, problem) in sorted(refused.items())
    ]
    return {f"{folder}/{partition_id}": clip for partition_id, clip in clips.items()}, problems


def build_track_table(
    raw_clips: dict[str, Callable[[], np.ndarray]],
    raw_clip_headers: dict[str, Callable[[], dict[str, Any]]],
    ingestion: dict[str, Any],
    refused_files: list[dict[str, str]] | None = None,
) -> pd.DataFrame:
    """List every audio file of the active source with its genre, label, format and status.

    A clip gets status ``ok`` only when it passes the checks prediction applies too (readable,
    not empty, not truncated, not too short, not silent: ``ingestion.checks``); every other
    status leaves it out of everything downstream. Files the source refused to read are
    listed with their own status.
    """
    folder = source_folder(ingestion)
    checks = {**DEFAULT_CHECKS, **(ingestion.get("checks") or {})}
    audio_paths = sorted(
        path
        for path in raw_clips
        if path.startswith(f"{folder}/") and PurePosixPath(path).suffix.lower() in AUDIO_EXTENSIONS
    )
    if not audio_paths and not refused_files:
        raise InputError(
            f"No audio clips in the raw folder 'data/01_raw/{folder}'. With ingestion.source="
            "generated (the default) they are generated on the first run; for real GTZAN run "
            '`kedro run --params "ingestion.source=local,ingestion.local_path=/path/to/gtzan"` '
            "or use ingestion.source=download (see README)."
        )
    rows = [
        _describe_clip(path, folder, raw_clip_headers[path], raw_clips[path], checks)
        for path in audio_paths
    ]
    rows += [_refused_row(entry, folder) for entry in refused_files or []]
    table = pd.DataFrame(rows, columns=TRACK_TABLE_COLUMNS)
    _mark_duplicates(table)
    for row in table[table["status"] != "ok"].itertuples():
        logger.warning("Left out '%s' (%s): %s", row.path, row.status, row.problem)
    usable = int((table["status"] == "ok").sum())
    logger.info(
        "Track table: %d usable clips of %d audio files in 'data/01_raw/%s' (%d left out).",
        usable,
        len(table),
        folder,
        len(table) - usable,
    )
    if usable == 0:
        raise InputError(
            f"None of the {len(table)} audio files in 'data/01_raw/{folder}' is usable; "
            "the warnings above say why for each file."
        )
    return table


def _describe_clip(
    path: str,
    folder: str,
    load_header: Callable[[], dict[str, Any]],
    load_samples: Callable[[], np.ndarray],
    checks: dict[str, float],
) -> dict[str, Any]:
    """Return one track-table row for the clip at ``path``."""
    relative = PurePosixPath(path).relative_to(folder)
    # Only "<genre>/<file>" is GTZAN's layout; a file at the top or deeper has no genre.
    genre = relative.parts[0] if len(relative.parts) == 2 else ""
    row = {
        "track_id": relative.stem,
        "genre": genre,
        "label": label_of(genre) if genre in GENRES else -1,
        "path": path,
        "duration_s": np.nan,
        "sample_rate": 0,
        "channels": 0,
        "status": "ok",
        "problem": "",
    }
    if genre not in GENRES:
        where = "/".join(relative.parts[:-1]) or "(none)"
        row["status"] = "unknown_genre"
        row["problem"] = (
            f"folder {where!r} is not a GTZAN genre ({', '.join(GENRES)}); "
            "move the file into its genre's folder or delete it"
        )
        return row
    try:
        header = load_header()
    except DatasetError as error:
        return {**row, "status": "unreadable", "problem": str(error)}
    row.update(
        duration_s=header["duration_s"],
        sample_rate=header["sample_rate"],
        channels=header["channels"],
    )
    status, problem = _clip_problem(header, load_samples, checks)
    return {**row, "status": status, "problem": problem}


def _refused_row(entry: dict[str, str], folder: str) -> dict[str, Any]:
    """The track-table row of a file the source refused to read."""
    relative = PurePosixPath(entry["path"]).relative_to(folder)
    genre = relative.parts[0] if len(relative.parts) == 2 else ""
    return {
        "track_id": relative.stem,
        "genre": genre,
        "label": label_of(genre) if genre in GENRES else -1,
        "path": entry["path"],
        "duration_s": np.nan,
        "sample_rate": 0,
        "channels": 0,
        "status": entry["status"],
        "problem": entry["problem"],
    }


def _clip_problem(
    header: dict[str, Any], load_samples: Callable[[], np.ndarray], checks: dict[str, float]
) -> tuple[str, str]:
    """Return ``(status, problem)`` of a clip with a readable header: ``("ok", "")`` if usable."""
    if header["frames"] == 0:
        return "empty", "the file holds no samples; re-export it or delete it"
    if header.get("truncated"):
        return "truncated", header["problem"]
    short = too_short(header["duration_s"], checks["min_seconds"], "ingestion.checks.min_seconds")
    if short:
        return "too_short", f"{short}; replace the clip or lower the parameter"
    try:
        samples = load_samples()
    except DatasetError as error:
        return "unreadable", str(error)
    return _samples_problem(samples, checks)


def _samples_problem(samples: np.ndarray, checks: dict[str, float]) -> tuple[str, str]:
    """Return ``(status, problem)`` of decoded samples: NaN or infinite, silent, or ok."""
    damaged = not_finite(samples)
    if damaged:
        return "not_finite", f"{damaged}; re-export the file or delete it"
    quiet = silent(samples, checks["silence_db"], "ingestion.checks.silence_db")
    if quiet:
        return "silent", f"{quiet}; replace the clip or lower the parameter"
    return "ok", ""


def _mark_duplicates(table: pd.DataFrame) -> None:
    """Mark every usable row whose track id was already taken by an earlier file."""
    usable = table["status"] == "ok"
    duplicated = usable & table["track_id"].where(usable).duplicated(keep="first")
    table.loc[duplicated, "status"] = "duplicate"
    table.loc[duplicated, "problem"] = (
        "another file already has this track id (file name); rename one of them"
    )


def count_tracks_per_genre(track_table: pd.DataFrame) -> pd.DataFrame:
    """Count usable tracks, their share and total minutes per genre, all ten genres listed."""
    usable = track_table[track_table["status"] == "ok"]
    grouped = usable.groupby("genre").agg(
        tracks=("track_id", "size"), seconds=("duration_s", "sum")
    )
    distribution = grouped.reindex(list(GENRES), fill_value=0).rename_axis("genre").reset_index()
    distribution.insert(1, "label", range(len(GENRES)))
    distribution["share"] = (distribution["tracks"] / max(len(usable), 1)).round(4)
    distribution["minutes"] = (distribution.pop("seconds") / 60).round(2)
    left_out = track_table[track_table["status"] != "ok"].groupby("genre").size()
    distribution["left_out"] = distribution["genre"].map(left_out).fillna(0).astype(int)
    return distribution


def plot_class_distribution(class_distribution: pd.DataFrame) -> Figure:
    """Draw the number of usable tracks per genre as a labelled bar chart."""
    # Figures outside pyplot's registry: the catalog saves them, nothing has to close them.
    figure = Figure(figsize=(9, 4))
    axes = figure.subplots()
    bars = axes.bar(class_distribution["genre"], class_distribution["tracks"], color="tab:blue")
    axes.bar_label(bars)
    axes.set_xlabel("genre")
    axes.set_ylabel("tracks")
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_title(f"Class distribution ({int(class_distribution['tracks'].sum())} tracks)")
    axes.tick_params(axis="x", rotation=30)
    figure.tight_layout()
    return figure


def plot_genre_examples(
    track_table: pd.DataFrame,
    raw_clips: dict[str, Callable[[], np.ndarray]],
    example_figures: dict[str, Any],
) -> dict[str, Figure]:
    """Draw waveform, spectrogram and mel-spectrogram of the first usable clip of each genre."""
    usable = track_table[track_table["status"] == "ok"]
    figures: dict[str, Figure] = {}
    for genre, tracks in usable.groupby("genre", sort=False):
        track = tracks.sort_values("track_id").iloc[0]
        samples = raw_clips[track["path"]]()
        title = f"{genre}: {PurePosixPath(track['path']).name}"
        for kind, draw in _EXAMPLE_PLOTS.items():
            figure = Figure(figsize=(10, 4))
            axes = figure.subplots()
            draw(axes, samples, example_figures)
            axes.set_title(f"{title} ({kind})")
            figure.tight_layout()
            figures[f"{genre}/{track['track_id']}-{kind}.png"] = figure
    return figures


def _draw_waveform(axes: Any, samples: np.ndarray, params: dict[str, Any]) -> None:
    """Draw the waveform against time."""
    librosa.display.waveshow(samples, sr=params["sample_rate"], ax=axes)
    axes.set_ylabel("amplitude")


def _draw_spectrogram(axes: Any, samples: np.ndarray, params: dict[str, Any]) -> None:
    """Draw the linear-frequency STFT magnitude in dB on a log frequency axis."""
    stft = np.abs(librosa.stft(samples, n_fft=params["n_fft"], hop_length=params["hop_length"]))
    image = librosa.display.specshow(
        librosa.amplitude_to_db(stft, ref=np.max),
        sr=params["sample_rate"],
        hop_length=params["hop_length"],
        x_axis="time",
        y_axis="log",
        ax=axes,
    )
    axes.figure.colorbar(image, ax=axes, format="%+2.0f dB")


def _draw_mel_spectrogram(axes: Any, samples: np.ndarray, params: dict[str, Any]) -> None:
    """Draw the mel spectrogram in dB."""
    mel = librosa.feature.melspectrogram(
        y=samples,
        sr=params["sample_rate"],
        n_fft=params["n_fft"],
        hop_length=params["hop_length"],
        n_mels=params["n_mels"],
    )
    image = librosa.display.specshow(
        librosa.power_to_db(mel, ref=np.max),
        sr=params["sample_rate"],
        hop_length=params["hop_length"],
        x_axis="time",
        y_axis="mel",
        ax=axes,
    )
    axes.figure.colorbar(image, ax=axes, format="%+2.0f dB")


_EXAMPLE_PLOTS = {
    "waveform": _draw_waveform,
    "spectrogram": _draw_spectrogram,
    "mel_spectrogram": _draw_mel_spectrogram,
}
