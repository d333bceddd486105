"""Ingestion nodes on tiny real WAV folders, including every kind of bad input."""

import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from gtzan_kedro.datasets import AudioDataset, AudioMetadataDataset, ClipFolderDataset
from gtzan_kedro.errors import InputError
from gtzan_kedro.labels import make_label_set
from gtzan_kedro.pipelines.feature_engineering.nodes import split_tracks
from gtzan_kedro.pipelines.ingestion.nodes import (
    acquire_clips,
    build_track_table,
    count_tracks_per_genre,
    find_label_set,
    plot_class_distribution,
    plot_genre_examples,
)
from gtzan_kedro.sources.gtzan_genres import GTZAN_GENRES as GENRES
from gtzan_kedro.sources.registry import SOURCE_INDEX_COLUMNS
from tests.conftest import tone

GENERATED = {"source": "generated", "checks": {"silence_db": -60.0, "min_seconds": 0.5}}
FIGURE_PARAMS = {"sample_rate": 22050, "n_fft": 512, "hop_length": 256, "n_mels": 32}
GTZAN_LABELS = make_label_set(list(GENRES), "generated")
NO_INDEX = pd.DataFrame(columns=SOURCE_INDEX_COLUMNS)


def folder_partitions(root: Path) -> tuple[dict, dict]:
    """Load the raw folder as the catalog's raw_clips and raw_clip_headers do."""
    clips = ClipFolderDataset(path=str(root), dataset={"type": AudioDataset, "sample_rate": 22050})
    headers = ClipFolderDataset(path=str(root), dataset={"type": AudioMetadataDataset})
    return clips.load(), headers.load()


def table_of(clips: dict, headers: dict, ingestion: dict) -> pd.DataFrame:
    """Build the track table of loaded partitions, with the label set the source gives."""
    return build_track_table(clips, headers, NO_INDEX, find_label_set(clips, ingestion), ingestion)


def track_table_of(root: Path) -> pd.DataFrame:
    """Build the track table of a raw folder with the generated source active."""
    return table_of(*folder_partitions(root), GENERATED)


def test_track_table_lists_genre_label_and_format(raw_folder: Path):
    table = track_table_of(raw_folder)

    assert len(table) == 12
    assert set(table["status"]) == {"ok"}
    row = table.set_index("track_id").loc["disco.00002"]
    assert row["genre"] == "disco"
    assert row["label"] == GENRES.index("disco")
    assert row["path"] == "generated/disco/disco.00002.wav"
    assert (row["sample_rate"], row["channels"]) == (22050, 1)
    assert row["duration_s"] == pytest.approx(2.0)


def test_unreadable_and_empty_files_are_listed_not_dropped(raw_folder: Path, caplog):
    (raw_folder / "generated" / "blues" / "blues.00054.wav").write_bytes(b"garbage" * 50)
    (raw_folder / "generated" / "blues" / "blues.00055.wav").touch()

    with caplog.at_level(logging.WARNING):
        table = track_table_of(raw_folder).set_index("track_id")

    assert table.loc["blues.00054", "status"] == "unreadable"
    assert table.loc["blues.00055", "status"] == "unreadable"
    assert "empty" in table.loc["blues.00055", "problem"]
    assert "blues.00054.wav" in caplog.text and "blues.00055.wav" in caplog.text
    assert (table["status"] == "ok").sum() == 12


def test_folder_that_is_not_a_genre_is_rejected_with_advice(raw_folder: Path, write_clip):
    write_clip(raw_folder / "generated" / "polka" / "polka.00000.wav", tone(100.0, 1.0))

    table = track_table_of(raw_folder).set_index("track_id")

    assert table.loc["polka.00000", "status"] == "unknown_genre"
    assert "'polka' is not a GTZAN genre" in table.loc["polka.00000", "problem"]
    assert table.loc["polka.00000", "label"] == -1


def test_files_that_are_not_audio_are_ignored(raw_folder: Path):
    (raw_folder / "generated" / "README.txt").write_text("not a clip")

    assert "README" not in set(track_table_of(raw_folder)["track_id"])


def test_clips_of_another_source_are_not_mixed_in(raw_folder: Path, write_clip):
    write_clip(raw_folder / "gtzan" / "rock" / "rock.00000.wav", tone(100.0, 1.0))

    assert "rock" not in set(track_table_of(raw_folder)["genre"])


def test_empty_raw_folder_says_how_to_get_data(tmp_path: Path):
    with pytest.raises(InputError, match=r"data/01_raw/generated.*ingestion\.source=local"):
        track_table_of(tmp_path / "nothing_here")


def test_generated_clips_land_in_their_own_folder():
    clips, index = acquire_clips(
        {
            "source": "generated",
            "generator": {"clips_per_genre": 2, "clip_seconds": 1.0, "sample_rate": 22050},
        },
        seed=7,
    )

    assert len(clips) == 20
    assert "generated/blues/blues.00000.wav" in clips
    assert all(partition.startswith("generated/") for partition in clips)
    assert index.empty


def test_class_distribution_counts_every_genre(raw_folder: Path):
    (raw_folder / "generated" / "blues" / "blues.00054.wav").write_bytes(b"garbage" * 50)

    distribution = count_tracks_per_genre(track_table_of(raw_folder), GTZAN_LABELS).set_index(
        "genre"
    )

    assert list(distribution.index) == list(GENRES)
    assert distribution.loc["blues", "tracks"] == 4
    assert distribution.loc["blues", "left_out"] == 1
    assert distribution.loc["rock", "tracks"] == 0
    assert distribution["share"].sum() == pytest.approx(1.0, abs=1e-3)
    assert distribution.loc["disco", "minutes"] == pytest.approx(4 * 2.0 / 60, abs=0.01)


def test_class_distribution_chart_shows_counts(raw_folder: Path):
    figure = plot_class_distribution(
        count_tracks_per_genre(track_table_of(raw_folder), GTZAN_LABELS)
    )

    axes = figure.axes[0]
    heights = [bar.get_height() for bar in axes.patches]
    assert heights[:4] == [4, 4, 0, 4]
    assert "12 tracks" in axes.get_title()


def test_genre_examples_draw_three_titled_figures_per_genre(raw_folder: Path):
    clips, headers = folder_partitions(raw_folder)
    table = table_of(clips, headers, GENERATED)

    figures = plot_genre_examples(table, GTZAN_LABELS, clips, FIGURE_PARAMS)

    assert sorted(figures) == sorted(
        f"{genre}/{genre}.00000-{kind}.png"
        for genre in ("blues", "classical", "disco")
        for kind in ("waveform", "spectrogram", "mel_spectrogram")
    )
    title = figures["classical/classical.00000-mel_spectrogram.png"].axes[0].get_title()
    assert "classical" in title and "classical.00000.wav" in title


def test_clips_prediction_would_refuse_are_listed_and_left_out_of_training(
    raw_folder: Path, write_clip, caplog
):
    blues = raw_folder / "generated" / "blues"
    write_clip(blues / "blues.00010.wav", tone(220.0, 2.0) * 1e-3)  # peak -70 dBFS
    write_clip(blues / "blues.00011.wav", tone(220.0, 0.2))
    cut = write_clip(blues / "blues.00012.wav", tone(220.0, 2.0))
    cut.write_bytes(cut.read_bytes()[: cut.stat().st_size // 2])

    with caplog.at_level(logging.WARNING):
        table = track_table_of(raw_folder).set_index("track_id")

    assert table.loc["blues.00010", "status"] == "silent"
    assert "-70 dBFS, below ingestion.checks.silence_db" in table.loc["blues.00010", "problem"]
    assert table.loc["blues.00011", "status"] == "too_short"
    assert "0.20 s long" in table.loc["blues.00011", "problem"]
    assert table.loc["blues.00012", "status"] == "truncated"
    assert "header promises" in table.loc["blues.00012", "problem"]
    assert all(f"blues.000{n}.wav" in caplog.text for n in (10, 11, 12))
    split = split_tracks(
        table.reset_index(),
        make_label_set(["blues", "classical", "disco"], "generated"),
        {"split": {"strategy": "stratified", "validation_size": 0.25, "test_size": 0.25}},
        seed=1,
    )
    assert not {"blues.00010", "blues.00011", "blues.00012"} & set(split["track_id"])
    assert len(split) == 12


def test_check_thresholds_are_parameters(raw_folder: Path, write_clip):
    write_clip(raw_folder / "generated" / "blues" / "blues.00010.wav", tone(220.0, 2.0) * 1e-4)
    clips, headers = folder_partitions(raw_folder)

    lenient = {"source": "generated", "checks": {"silence_db": -100.0, "min_seconds": 0.5}}
    strict = {"source": "generated", "checks": {"silence_db": -60.0, "min_seconds": 3.0}}

    assert set(table_of(clips, headers, lenient)["status"]) == {"ok"}
    with pytest.raises(InputError, match="None of the 13 audio files"):
        table_of(clips, headers, strict)


def test_clip_outside_any_genre_folder_is_listed_with_its_status(raw_folder: Path, write_clip):
    write_clip(raw_folder / "generated" / "stray.wav", tone(100.0, 1.0))
    write_clip(raw_folder / "generated" / "blues" / "live" / "deep.wav", tone(100.0, 1.0))

    table = track_table_of(raw_folder).set_index("track_id")

    assert table.loc["stray", "status"] == "unknown_genre"
    assert "folder '(none)'" in table.loc["stray", "problem"]
    assert table.loc["deep", "status"] == "unknown_genre"
    assert "folder 'blues/live'" in table.loc["deep", "problem"]


def test_a_clip_with_nan_samples_or_a_constant_level_is_listed_for_what_it_is(raw_folder: Path):
    blues = raw_folder / "generated" / "blues"
    damaged = tone(220.0, 2.0)
    damaged[::1000] = np.nan
    sf.write(blues / "blues.00010.wav", damaged, 22050, subtype="FLOAT")
    sf.write(blues / "blues.00011.wav", np.full(2 * 22050, 0.25), 22050, subtype="PCM_16")

    table = track_table_of(raw_folder).set_index("track_id")

    assert table.loc["blues.00010", "status"] == "not_finite"
    assert "45 of its 44100 samples are NaN or infinite" in table.loc["blues.00010", "problem"]
    assert table.loc["blues.00011", "status"] == "silent"
    assert "constant level (+0.250, a DC offset)" in table.loc["blues.00011", "problem"]
