"""`ingestion` and `feature_engineering` run for real through a KedroSession on tiny data."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project

from gtzan_kedro.sources.gtzan_genres import GTZAN_GENRES as GENRES
from tests.conftest import PROJECT_ROOT, copy_project

TINY = {
    "ingestion": {"generator": {"clips_per_genre": 4, "clip_seconds": 3.0}},
    "feature_engineering": {
        "split": {"validation_size": 0.25, "test_size": 0.25},
        "feature_sets": {"log_mel": {"window": {"frames": 32, "hop": 16}}},
        "executor": {"n_jobs": 2},
    },
}
# What each feature set's examples look like: (frames, n_mels) windows; MFCC statistics rows.
EXAMPLE_SHAPES = {"log_mel": (32, 64), "mfcc_stats": (3 * 20 + 2 * 64 + 2,)}


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
@pytest.mark.parametrize("feature_set", sorted(EXAMPLE_SHAPES))
def test_every_example_label_is_the_genre_folder_of_its_track(
    featurised_project: Path, feature_set: str
):
    model_input = featurised_project / "data" / "05_model_input" / feature_set
    splits = pd.read_parquet(featurised_project / "data" / "03_primary" / "track_splits.parquet")
    folder_of = {row.track_id: Path(row.path).parent.name for row in splits.itertuples()}
    tracks_seen: dict[str, set[str]] = {}

    # The test split is predicted track by track from the cached features (as `predict` would):
    # its tracks' labels are those of the split table.
    for track in splits.itertuples():
        assert track.label == GENRES.index(folder_of[track.track_id])
    for split in ("train", "validation"):
        labels = np.load(model_input / f"{split}_labels.npy")
        track_ids = np.load(model_input / f"{split}_track_ids.npy")
        examples = np.load(model_input / f"{split}_examples.npy", mmap_mode="r")
        assert len(labels) == len(track_ids) == len(examples) > 0
        assert examples.shape[1:] == EXAMPLE_SHAPES[feature_set]
        expected = [GENRES.index(folder_of[track_id]) for track_id in track_ids]
        np.testing.assert_array_equal(labels, expected)
        tracks_seen[split] = set(track_ids)

    tracks_seen["test"] = set(splits.loc[splits["split"] == "test", "track_id"])
    assert tracks_seen["test"]
    assert not tracks_seen["train"] & tracks_seen["validation"]
    assert not tracks_seen["train"] & tracks_seen["test"]
    assert not tracks_seen["validation"] & tracks_seen["test"]


@pytest.mark.slow
@pytest.mark.parametrize("feature_set", sorted(EXAMPLE_SHAPES))
def test_training_examples_are_normalised_with_saved_statistics(
    featurised_project: Path, feature_set: str
):
    model_input = featurised_project / "data" / "05_model_input" / feature_set
    train = np.load(model_input / "train_examples.npy")
    dims = train.reshape(-1, train.shape[-1])

    assert (model_input / "normalisation.json").exists()
    assert np.abs(dims.mean(axis=0)).max() < 0.5
    assert dims.std() == pytest.approx(1.0, abs=0.3)


@pytest.mark.slow
def test_each_feature_set_caches_one_array_per_split_track(featurised_project: Path):
    splits = pd.read_parquet(featurised_project / "data" / "03_primary" / "track_splits.parquet")

    for feature_set in EXAMPLE_SHAPES:
        cache = featurised_project / "data" / "04_feature" / feature_set
        assert sorted(path.stem for path in cache.glob("*.npy")) == sorted(splits["track_id"])
        assert (cache / "fingerprints.json").is_file()


@pytest.mark.slow
def test_second_run_regenerates_no_clip_and_recomputes_no_feature(featurised_project: Path):
    clips = sorted((featurised_project / "data" / "01_raw" / "generated").glob("*/*.wav"))
    features = sorted((featurised_project / "data" / "04_feature").glob("*/*.npy"))
    before = {path: path.stat().st_mtime_ns for path in clips + features}

    run_features(featurised_project)

    assert {path: path.stat().st_mtime_ns for path in clips + features} == before
