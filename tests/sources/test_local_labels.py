"""The label set of a local collection comes from its folders, or from ingestion.labels."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from gtzan_kedro.datasets import AudioDataset, ClipFolderDataset
from gtzan_kedro.errors import InputError
from gtzan_kedro.labels import make_label_set
from gtzan_kedro.pipelines.feature_engineering.nodes import split_tracks
from gtzan_kedro.pipelines.ingestion.nodes import acquire_clips, find_label_set
from gtzan_kedro.sources import SOURCES
from tests.sources.gtzan_copies import clip_bytes, write_tree, write_zip

FOLDERS = ("techno", "house", "ambient")


def collection(clips_per_label: int = 2) -> dict[str, bytes]:
    """``{"<label>/<file>": WAV bytes}`` of three labels that are no GTZAN genre."""
    return {
        f"{label}/{label}-{index}.wav": clip_bytes(number, index, "WAV")
        for number, label in enumerate(FOLDERS)
        for index in range(clips_per_label)
    }


def raw_clips(ingestion: dict, raw: Path) -> dict:
    """Acquire the collection into ``raw`` and load it back as the catalog's raw_clips."""
    clips, _ = acquire_clips(ingestion, seed=1)
    dataset = ClipFolderDataset(path=str(raw), dataset={"type": AudioDataset})
    dataset.save(clips)
    return dataset.load()


def test_the_labels_are_the_folder_names_sorted(tmp_path: Path):
    copy = write_zip(tmp_path / "music.zip", {f"My Music/{k}": v for k, v in collection().items()})
    ingestion = {"source": "local", "local_path": str(copy)}

    label_set = find_label_set(raw_clips(ingestion, tmp_path / "raw"), ingestion)

    assert label_set["labels"] == ["ambient", "house", "techno"]
    assert label_set["source"] == "local"


def test_ingestion_labels_fix_the_order_and_keep_some(tmp_path: Path):
    copy = write_tree(tmp_path / "music", collection())
    ingestion = {"source": "local", "local_path": str(copy), "labels": ["techno", "ambient"]}

    clips = raw_clips(ingestion, tmp_path / "raw")

    assert find_label_set(clips, ingestion)["labels"] == ["techno", "ambient"]
    # The house clips are still copied, to be listed in the track table as left out.
    assert "gtzan/house/house-0.wav" in clips


def test_a_label_not_on_disk_is_named_with_the_folders_found(tmp_path: Path):
    copy = write_tree(tmp_path / "music", collection())
    ingestion = {"source": "local", "local_path": str(copy), "labels": ["techno", "dubstep"]}

    with pytest.raises(
        InputError,
        match=r"ingestion\.labels names 'dubstep', which has no folder"
        r".*\(folders found: ambient, house, techno\)",
    ):
        acquire_clips(ingestion, seed=1)


def test_labels_that_are_not_a_list_name_the_parameter(tmp_path: Path):
    copy = write_tree(tmp_path / "music", collection())

    with pytest.raises(
        InputError,
        match=r"Invalid parameter ingestion\.labels='techno': give a "
        r"list of folder names",
    ):
        acquire_clips({"source": "local", "local_path": str(copy), "labels": "techno"}, seed=1)


def test_one_label_is_not_a_classification(tmp_path: Path):
    copy = write_tree(tmp_path / "music", {"solo/a.wav": clip_bytes(0, 0, "WAV")})
    ingestion = {"source": "local", "local_path": str(copy)}

    with pytest.raises(InputError, match=r"has 1 label \(solo\): a classifier needs at least two"):
        find_label_set(raw_clips(ingestion, tmp_path / "raw"), ingestion)


def test_gtzan_sources_keep_their_genres_and_refuse_a_label_list():
    generated = {"source": "generated", "labels": ["techno", "house"]}
    clips = {"generated/blues/blues.00000.wav": None, "generated/rock/rock.00000.wav": None}

    assert SOURCES["generated"].labels[:2] == ("blues", "classical")
    with pytest.raises(
        InputError,
        match=r"ingestion\.labels is set, but ingestion\.source="
        r"generated has GTZAN genres of its own",
    ):
        find_label_set(clips, generated)


def track_table(per_label: dict[str, int]) -> pd.DataFrame:
    """A track table of usable tracks, ``per_label[label]`` of each."""
    rows = [
        {
            "track_id": f"{label}-{index}",
            "genre": label,
            "label": number,
            "path": "",
            "duration_s": 3.0,
            "status": "ok",
            "dataset_split": "",
        }
        for number, (label, count) in enumerate(per_label.items())
        for index in range(count)
    ]
    return pd.DataFrame(rows)


@pytest.mark.parametrize(
    ("split", "message"),
    [
        (
            {"strategy": "stratified", "validation_size": 0.2, "test_size": 0.2},
            r"Label 'house' has 1 usable clip: too few .* \(it needs 3\)",
        ),
        (
            {"strategy": "kfold", "folds": 3},
            r"Label 'house' has 1 usable clip: the split needs at "
            r"least 3 \(one per fold\)",
        ),
        (
            {"strategy": "artist_filtered"},
            r"artist_filtered is the published split of GTZAN, whose "
            r"genres do not include techno, house, ambient",
        ),
    ],
)
def test_splits_name_the_label_they_cannot_use(split: dict, message: str):
    table = track_table({"techno": 5, "house": 1, "ambient": 5})

    with pytest.raises(InputError, match=message):
        split_tracks(table, make_label_set(list(FOLDERS), "local"), {"split": split}, seed=1)
