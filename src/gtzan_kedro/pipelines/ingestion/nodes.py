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

from gtzan_kedro.audio_checks import not_finite, silent, too_short
from gtzan_kedro.audio_formats import AUDIO_EXTENSIONS
from gtzan_kedro.errors import InputError
from gtzan_kedro.labels import configured_labels, make_label_set
from gtzan_kedro.sources import Source, get_source

logger = logging.getLogger(__name__)

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
    "dataset_split",
]


def acquire_clips(
    ingestion: dict[str, Any], seed: int, downloads: Path | None = None
) -> tuple[dict[str, Callable[[], Any]], pd.DataFrame]:
    """Return the source's clips as lazy partitions of the raw folder, and its track index.

    Each source fills its own folder under the raw layer, so switching sources never mixes
    generated clips with real ones. The index lists the tracks the source knows beyond its
    clips (those it could not deliver, a published split).
    """
    source = get_source(ingestion)
    collection = source.collection(ingestion, seed, downloads)
    clips = {f"{source.folder}/{key}": clip for key, clip in collection.clips.items()}
    return clips, collection.index


def find_label_set(raw_clips: dict[str, Callable[[], Any]], ingestion: dict[str, Any]) -> dict:
    """The collection's labels, in order: the source's own, ``ingestion.labels`` or its folders.

    A collection needs at least two labels; each label given in ``ingestion.labels`` must be
    a folder of the collection.
    """
    source = get_source(ingestion)
    folders = sorted(
        {
            PurePosixPath(path).relative_to(source.folder).parts[0]
            for path in _audio_paths(raw_clips, source.folder)
            if len(PurePosixPath(path).relative_to(source.folder).parts) == 2
        }
    )
    configured = configured_labels(ingestion)
    if source.labels is not None:
        if configured:
            raise InputError(
                f"ingestion.labels is set, but ingestion.source={source.name} has "
                f"{source.label_noun}s of its own ({', '.join(source.labels)}): remove "
                "ingestion.labels, or use a source whose labels come from the data (local, fma)."
            )
        labels = list(source.labels)
    elif configured:
        _check_configured_labels(configured, folders, source.folder)
        labels = list(configured)
    else:
        labels = folders
    if len(labels) < 2:
        raise InputError(
            f"The collection in 'data/01_raw/{source.folder}' has {len(labels)} label"
            f"{'' if len(labels) == 1 else 's'} ({', '.join(labels) or 'none'}): a classifier "
            "needs at least two, one folder of audio files per label (<label>/<file>)."
        )
    logger.info("Label set of '%s': %s.", source.name, ", ".join(labels))
    return make_label_set(labels, source.name)


def _check_configured_labels(configured: list[str], folders: list[str], folder: str) -> None:
    """Fail unless every label of ``ingestion.labels`` is a folder of the collection, once."""
    repeated = sorted({label for label in configured if configured.count(label) > 1})
    if repeated:
        raise InputError(f"ingestion.labels lists {', '.join(repeated)} more than once.")
    missing = [label for label in configured if label not in folders]
    if missing:
        raise InputError(
            f"ingestion.labels names {', '.join(repr(label) for label in missing)}, which has no "
            f"folder of audio files in 'data/01_raw/{folder}' (folders found: "
            f"{', '.join(folders) or 'none'}): fix the list or add the folder."
        )


def _audio_paths(raw_clips: dict[str, Any], folder: str) -> list[str]:
    """The audio partitions of the source's folder, sorted; fail when there is none."""
    audio_paths = sorted(
        path
        for path in raw_clips
        if path.startswith(f"{folder}/") and PurePosixPath(path).suffix.lower() in AUDIO_EXTENSIONS
    )
    if not audio_paths:
        raise InputError(
            f"No audio clips in the raw folder 'data/01_raw/{folder}'. With ingestion.source="
            "generated (the default) they are generated on the first run; for real GTZAN run "
            '`kedro run --params "ingestion.source=local,ingestion.local_path=/path/to/gtzan"` '
            "or use ingestion.source=download (see README)."
        )
    return audio_paths


def build_track_table(  # noqa: PLR0913, PLR0917 - Kedro passes one positional input per dataset
    raw_clips: dict[str, Callable[[], np.ndarray]],
    raw_clip_headers: dict[str, Callable[[], dict[str, Any]]],
    source_index: pd.DataFrame,
    label_set: dict[str, Any],
    ingestion: dict[str, Any],
) -> pd.DataFrame:
    """List every audio file of the active source with its genre, label, format and status.

    A clip gets status ``ok`` only when it is in a label's folder and passes the checks
    prediction applies too (readable, not empty, not truncated, not too short, not silent:
    ``ingestion.checks``); every other status leaves it out of everything downstream. Tracks
    the source lists without a clip (no label, no audio) come with the status it gave them.
    """
    source = get_source(ingestion)
    checks = ingestion["checks"]
    rows = [
        _describe_clip(
            path, source, label_set["labels"], raw_clip_headers[path], raw_clips[path], checks
        )
        for path in _audio_paths(raw_clips, source.folder)
    ]
    table = pd.DataFrame(rows, columns=TRACK_TABLE_COLUMNS)
    table = _with_source_index(table, source_index)
    _mark_duplicates(table)
    for row in table[table["status"] != "ok"].itertuples():
        logger.warning("Left out '%s' (%s): %s", row.path, row.status, row.problem)
    usable = int((table["status"] == "ok").sum())
    logger.info(
        "Track table: %d usable clips of %d tracks of 'data/01_raw/%s' (%d left out).",
        usable,
        len(table),
        source.folder,
        len(table) - usable,
    )
    if usable == 0:
        raise InputError(
            f"None of the {len(table)} audio files in 'data/01_raw/{source.folder}' is usable; "
            "the warnings above say why for each file."
        )
    return table


def _with_source_index(table: pd.DataFrame, source_index: pd.DataFrame) -> pd.DataFrame:
    """The table with each track's published split, and the source's undelivered tracks."""
    if source_index.empty:
        return table.assign(dataset_split="")
    splits = source_index.set_index("track_id")["dataset_split"]
    table["dataset_split"] = table["track_id"].map(splits).fillna("")
    undelivered = source_index[~source_index["track_id"].isin(table["track_id"])]
    extra = undelivered.assign(label=-1, duration_s=np.nan, sample_rate=0, channels=0)[
        TRACK_TABLE_COLUMNS
    ]
    return pd.concat([table, extra], ignore_index=True)


def _describe_clip(  # noqa: PLR0913, PLR0917
    path: str,
    source: Source,
    labels: list[str],
    load_header: Callable[[], dict[str, Any]],
    load_samples: Callable[[], np.ndarray],
    checks: dict[str, float],
) -> dict[str, Any]:
    """Return one track-table row for the clip at ``path``."""
    relative = PurePosixPath(path).relative_to(source.folder)
    # Only "<label>/<file>" is the layout; a file at the top or deeper has no label.
    genre = relative.parts[0] if len(relative.parts) == 2 else ""
    row = {
        "track_id": relative.stem,
        "genre": genre,
        "label": labels.index(genre) if genre in labels else -1,
        "path": path,
        "duration_s": np.nan,
        "sample_rate": 0,
        "channels": 0,
        "status": "ok",
        "problem": "",
        "dataset_split": "",
    }
    if genre not in labels:
        where = "/".join(relative.parts[:-1]) or "(none)"
        row["status"] = "unknown_genre"
        row["problem"] = (
            f"folder {where!r} is not a {source.label_noun} ({', '.join(labels)}); "
            "move the file into its label's folder or delete it"
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


def count_tracks_per_genre(track_table: pd.DataFrame, label_set: dict[str, Any]) -> pd.DataFrame:
    """Count usable tracks, their share and total minutes per label, every label listed."""
    labels = label_set["labels"]
    usable = track_table[track_table["status"] == "ok"]
    grouped = usable.groupby("genre").agg(
        tracks=("track_id", "size"), seconds=("duration_s", "sum")
    )
    distribution = grouped.reindex(labels, fill_value=0).rename_axis("genre").reset_index()
    distribution.insert(1, "label", range(len(labels)))
    distribution["share"] = (distribution["tracks"] / max(len(usable), 1)).round(4)
    distribution["minutes"] = (distribution.pop("seconds") / 60).round(2)
    left_out = track_table[track_table["status"] != "ok"].groupby("genre").size()
    distribution["left_out"] = distribution["genre"].map(left_out).fillna(0).astype(int)
    return distribution


def plot_class_distribution(class_distribution: pd.DataFrame) -> Figure:
    """Draw the number of usable tracks per label as a labelled bar chart."""
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
    label_set: dict[str, Any],
    raw_clips: dict[str, Callable[[], np.ndarray]],
    example_figures: dict[str, Any],
) -> dict[str, Figure]:
    """Draw waveform, spectrogram and mel-spectrogram of the first usable clip of each label."""
    usable = track_table[track_table["status"] == "ok"]
    figures: dict[str, Figure] = {}
    for genre in label_set["labels"]:
        tracks = usable[usable["genre"] == genre]
        if tracks.empty:
            continue
        track = tracks.sort_values("track_id").iloc[0]
        samples = raw_clips[track["path"]]()
        title = f"{genre}: {PurePosixPath(track['path']).name}"
        for kind, draw in _EXAMPLE_PLOTS.items():
            # No layout pass: the catalog saves with bbox_inches=tight, which makes room for
            # the labels; a tight_layout on top took a third of the node's time.
            figure = Figure(figsize=(10, 4))
            axes = figure.subplots()
            draw(axes, samples, example_figures)
            axes.set_title(f"{title} ({kind})")
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
