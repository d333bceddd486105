"""Features are cached per track: unchanged raw files and parameters are not decoded again."""

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from kedro.io import DatasetError

from gtzan_kedro.datasets import (
    AudioDataset,
    ClipFolderDataset,
    FeatureCacheDataset,
    FeatureFingerprintsDataset,
    FileStatDataset,
    NumpyArrayDataset,
)
from gtzan_kedro.errors import InputError
from gtzan_kedro.features import FEATURE_SETS
from gtzan_kedro.features.log_mel import log_mel
from gtzan_kedro.pipelines.feature_engineering.nodes import extract_features, split_tracks
from gtzan_kedro.pipelines.ingestion.nodes import build_track_table, find_label_set
from tests.conftest import labels_of

GENERATED = {"source": "generated", "checks": {"silence_db": -60.0, "min_seconds": 0.5}}
SPLIT = {"split": {"strategy": "stratified", "validation_size": 0.25, "test_size": 0.25}}
LOG_MEL = {
    "extractor": "log_mel",
    "params": {"n_fft": 512, "hop_length": 256, "n_mels": 16},
    "window": {"frames": 8, "hop": 4},
}


class Catalog:
    """The datasets extract_features reads and writes, as the catalog configures them."""

    def __init__(self, raw: Path, features: Path) -> None:
        self.raw = raw
        self.features_path = features
        self.features = FeatureCacheDataset(
            path=str(features), filename_suffix=".npy", dataset={"type": NumpyArrayDataset}
        )
        self.fingerprints = FeatureFingerprintsDataset(path=str(features), filename_suffix=".npy")

    def folder(self, dataset: dict) -> dict:
        return ClipFolderDataset(path=str(self.raw), dataset=dataset).load()

    def run(self, splits, feature_set=LOG_MEL, raw_clips=None, recompute=False) -> dict:
        """Run the node on the current files, saving each chunk as Kedro does; return them all."""
        chunks = extract_features(
            raw_clips or self.folder({"type": AudioDataset, "sample_rate": 22050}),
            self.folder({"type": FileStatDataset}),
            self.fingerprints.load(),
            splits,
            feature_set,
            22050,
            recompute,
            {"n_jobs": 1},
        )
        computed = {}
        for chunk in chunks:
            self.features.save(chunk)
            computed |= chunk
        return computed


@pytest.fixture
def catalog(raw_folder: Path, tmp_path: Path) -> Catalog:
    return Catalog(raw_folder, tmp_path / "04_feature" / "log_mel")


@pytest.fixture
def splits(catalog: Catalog):
    clips = catalog.folder({"type": AudioDataset, "sample_rate": 22050})
    headers = catalog.folder({"type": "gtzan_kedro.datasets.AudioMetadataDataset"})
    generated = GENERATED
    label_set = find_label_set(clips, generated)
    table = build_track_table(clips, headers, pd.DataFrame(), label_set, generated)
    return split_tracks(table, labels_of(table), SPLIT, 1)


def never_decoded(splits) -> dict:
    """Raw clips that fail the test if any of them is decoded."""

    def fail() -> None:
        raise AssertionError("a clip was decoded although its log-mel was cached")

    return dict.fromkeys(splits["path"], fail)


def test_first_run_computes_every_track_and_records_fingerprints(catalog, splits):
    computed = catalog.run(splits)

    assert sorted(computed) == sorted(splits["track_id"])
    assert sorted(catalog.fingerprints.load()) == sorted(splits["track_id"])
    stored = catalog.features.load()
    track = splits.iloc[0]
    samples = AudioDataset(filepath=str(catalog.raw / track["path"])).load()
    np.testing.assert_allclose(
        stored[track["track_id"]](), log_mel(samples, 22050, **LOG_MEL["params"]), rtol=1e-5
    )


def test_second_run_on_unchanged_files_decodes_nothing(catalog, splits):
    catalog.run(splits)

    assert catalog.run(splits, raw_clips=never_decoded(splits)) == {}
    assert len(catalog.features.load()) == len(splits)


def test_changed_raw_file_is_recomputed_alone(catalog, splits):
    catalog.run(splits)
    changed = splits.iloc[3]
    raw_file = catalog.raw / changed["path"]
    os.utime(raw_file, ns=(raw_file.stat().st_atime_ns, raw_file.stat().st_mtime_ns + 10**9))

    assert list(catalog.run(splits)) == [changed["track_id"]]


def test_changed_feature_parameters_recompute_every_track(catalog, splits):
    catalog.run(splits)
    feature_set = {**LOG_MEL, "params": {**LOG_MEL["params"], "n_mels": 8}}

    computed = catalog.run(splits, feature_set)

    assert len(computed) == len(splits)
    assert next(iter(catalog.features.load().values()))().shape[1] == 8


def test_recompute_parameter_forces_every_track(catalog, splits):
    catalog.run(splits)

    assert len(catalog.run(splits, recompute=True)) == len(splits)


def test_another_window_reuses_the_cached_features(catalog, splits):
    catalog.run(splits)

    # Windows are cut after the cache: changing them decodes nothing.
    other_window = {**LOG_MEL, "window": {"frames": 16, "hop": 8}}
    assert catalog.run(splits, other_window, raw_clips=never_decoded(splits)) == {}


def test_deleted_feature_file_is_not_vouched_for(catalog, splits):
    catalog.run(splits)
    track_id = splits.iloc[0]["track_id"]
    (catalog.features_path / f"{track_id}.npy").unlink()

    assert track_id not in catalog.fingerprints.load()
    assert list(catalog.run(splits)) == [track_id]


def test_failed_rewrite_leaves_no_fingerprint_vouching_for_the_file(catalog, splits):
    catalog.run(splits)
    track_id = splits.iloc[0]["track_id"]

    class Unsaveable:
        def __array__(self, *args, **kwargs):
            raise OSError("disk full")

    with pytest.raises(DatasetError):
        catalog.features.save({track_id: {"fingerprint": "new", "features": Unsaveable()}})

    assert track_id not in catalog.fingerprints.load()
    assert len(catalog.fingerprints.load()) == len(splits) - 1


def folder_bytes(folder: Path) -> dict[str, bytes]:
    """Every file of ``folder`` and its content."""
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir())}


def test_features_that_are_not_finite_leave_the_cache_as_it_was(catalog, splits):
    catalog.run(splits)
    before = folder_bytes(catalog.features_path)
    # Finite samples so loud that their power overflows float32: infinite log-mel values.
    loud = (3e18 * np.resize([1, -1], 22050)).astype(np.float32)
    raw_clips = dict.fromkeys(splits["path"], lambda: loud)

    with pytest.raises(InputError, match=r"first: ValueError: .*'log_mel' gave \d+ non-finite"):
        catalog.run(splits, raw_clips=raw_clips, recompute=True)

    assert folder_bytes(catalog.features_path) == before


@pytest.mark.parametrize(
    ("shape", "problem"),
    [((40, 0), r"an array of shape \(40, 0\)"), ((40, 5), r"5 columns, not the 16")],
)
def test_features_of_the_wrong_width_leave_the_cache_as_it_was(
    catalog, splits, monkeypatch, shape, problem
):
    catalog.run(splits)
    before = folder_bytes(catalog.features_path)
    monkeypatch.setitem(FEATURE_SETS, "log_mel", lambda *args, **params: np.zeros(shape))

    with pytest.raises(InputError, match=problem):
        catalog.run(splits, recompute=True)

    assert folder_bytes(catalog.features_path) == before
