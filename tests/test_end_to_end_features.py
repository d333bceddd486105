"""`ingestion` and `feature_engineering` run for real through a KedroSession on tiny data."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project

from gtzan_kedro.genres import GENRES
from tests.conftest import PROJECT_ROOT, copy_project

TINY = {
    "ingestion": {"generator": {"clips_per_genre": 4, "clip_seconds": 3.0}},
    "feature_engineering": {
        "split": {"validation_size": 0.25, "test_size": 0.25},
        "sequences": {"frames": 32, "hop": 16},
        "n_jobs": 2,
    },
}


def run_features(project: Path) -> None:
    """Run ingestion and feature engineering on the tiny embedded dataset."""
    bootstrap_project(project)
    with KedroSession.create(project_path=project, runtime_params=TINY) as session:
        session.run(pipeline_names=["ingestion", "feature_engineering"])


@pytest.fixture(scope="module")
def featurised_project(tmp_path_factory) -> Path:
    """A project copy after one real run of ingestion and feature engineering."""
    project = copy_project(PROJECT_ROOT, tmp_path_factory.mktemp("e2e"))
    run_features(project)
    return project


@pytest.mark.slow
def test_raw_layer_holds_real_gtzan_shaped_wav_files(featurised_project: Path):
    clips = sorted((featurised_project / "data" / "01_raw" / "generated").glob("*/*.wav"))

    assert len(clips) == 40
    assert {clip.parent.name for clip in clips} == set(GENRES)
    info = sf.info(clips[0])
    assert (info.samplerate, info.channels, info.subtype) == (22050, 1, "PCM_16")
    assert info.duration == pytest.approx(3.0)


@pytest.mark.slow
def test_reports_are_written_to_the_reporting_layer(featurised_project: Path):
    reporting = featurised_project / "data" / "08_reporting"
    distribution = pd.read_csv(reporting / "class_distribution.csv")

    assert list(distribution["genre"]) == list(GENRES)
    assert (distribution["tracks"] == 4).all()
    assert (reporting / "class_distribution.png").stat().st_size > 0
    figures = sorted(
        p.relative_to(reporting / "genre_examples").as_posix()
        for p in (reporting / "genre_examples").rglob("*.png")
    )
    assert len(figures) == 30
    assert "blues/blues.00000-mel_spectrogram.png" in figures


@pytest.mark.slow
def test_every_sequence_label_is_the_genre_folder_of_its_track(featurised_project: Path):
    model_input = featurised_project / "data" / "05_model_input"
    splits = pd.read_parquet(featurised_project / "data" / "03_primary" / "track_splits.parquet")
    folder_of = {row.track_id: Path(row.path).parent.name for row in splits.itertuples()}
    tracks_seen: dict[str, set[str]] = {}

    for split in ("train", "validation", "test"):
        labels = np.load(model_input / f"{split}_labels.npy")
        track_ids = np.load(model_input / f"{split}_track_ids.npy")
        sequences = np.load(model_input / f"{split}_sequences.npy", mmap_mode="r")
        assert len(labels) == len(track_ids) == len(sequences) > 0
        assert sequences.shape[1:] == (32, 64)
        expected = [GENRES.index(folder_of[track_id]) for track_id in track_ids]
        np.testing.assert_array_equal(labels, expected)
        tracks_seen[split] = set(track_ids)

    assert not tracks_seen["train"] & tracks_seen["validation"]
    assert not tracks_seen["train"] & tracks_seen["test"]
    assert not tracks_seen["validation"] & tracks_seen["test"]


@pytest.mark.slow
def test_training_sequences_are_normalised_with_saved_statistics(featurised_project: Path):
    model_input = featurised_project / "data" / "05_model_input"
    train = np.load(model_input / "train_sequences.npy")

    assert (model_input / "normalisation_stats.json").exists()
    assert np.abs(train.mean(axis=(0, 1))).max() < 0.5
    assert train.std() == pytest.approx(1.0, abs=0.3)


@pytest.mark.slow
def test_second_run_does_not_regenerate_clips(featurised_project: Path):
    clips = sorted((featurised_project / "data" / "01_raw" / "generated").glob("*/*.wav"))
    before = {clip: clip.stat().st_mtime_ns for clip in clips}

    run_features(featurised_project)

    assert {clip: clip.stat().st_mtime_ns for clip in clips} == before
