"""acquire_clips with real-GTZAN sources: clips land unchanged in data/01_raw/gtzan/."""

import logging
from pathlib import Path

import pytest

from gtzan_kedro.datasets import AudioDataset, AudioMetadataDataset, ClipFolderDataset
from gtzan_kedro.errors import InputError
from gtzan_kedro.pipelines.ingestion.nodes import acquire_clips, build_track_table
from tests.sources.gtzan_copies import gtzan_files, write_tar, write_zip

LOCAL = {"source": "local"}


def save_raw(clips: dict, raw: Path) -> None:
    """Write acquired clips through the catalog's raw_clips dataset."""
    ClipFolderDataset(path=str(raw), dataset={"type": AudioDataset, "sample_rate": 22050}).save(
        clips
    )


def track_table(raw: Path):
    """The track table of the gtzan folder of ``raw``."""
    clips = ClipFolderDataset(path=str(raw), dataset={"type": AudioDataset, "sample_rate": 22050})
    headers = ClipFolderDataset(path=str(raw), dataset={"type": AudioMetadataDataset})
    return build_track_table(clips.load(), headers.load(), LOCAL)


def test_original_archive_lands_as_au_bytes_unchanged(tmp_path: Path):
    files = gtzan_files("au", prefix="genres/")
    archive = write_tar(tmp_path / "genres.tar.gz", files)

    clips = acquire_clips({**LOCAL, "local_path": str(archive)}, seed=1)
    save_raw(clips, tmp_path / "01_raw")

    written = tmp_path / "01_raw" / "gtzan" / "blues" / "blues.00000.au"
    assert written.read_bytes() == files["genres/blues/blues.00000.au"]
    assert sorted(clips) == sorted(f"gtzan/{name.removeprefix('genres/')}" for name in files)
    table = track_table(tmp_path / "01_raw")
    assert set(table["status"]) == {"ok"}
    assert set(table["track_id"]) == {Path(name).stem for name in files}


def test_corrupt_kaggle_jazz_00054_is_reported_and_left_out(tmp_path: Path, caplog):
    files = gtzan_files("wav", prefix="Data/genres_original/")
    files["Data/genres_original/jazz/jazz.00054.wav"] = b"RIFF\x00\x00" + b"\x00" * 200
    archive = write_zip(tmp_path / "archive.zip", files)

    save_raw(acquire_clips({**LOCAL, "local_path": str(archive)}, seed=1), tmp_path / "01_raw")
    with caplog.at_level(logging.WARNING):
        table = track_table(tmp_path / "01_raw").set_index("track_id")

    assert table.loc["jazz.00054", "status"] == "unreadable"
    assert "gtzan/jazz/jazz.00054.wav" in caplog.text
    assert (table.drop(index="jazz.00054")["status"] == "ok").all()
    assert len(table) == len(files)


def test_local_source_without_local_path_names_the_parameter():
    with pytest.raises(InputError, match=r"ingestion\.local_path is not set"):
        acquire_clips({**LOCAL, "local_path": None}, seed=1)
