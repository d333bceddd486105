"""acquire_clips with real-GTZAN sources: clips land unchanged in data/01_raw/gtzan/."""

import hashlib
import json
import logging
import os
from pathlib import Path

import pandas as pd
import pytest

from gtzan_kedro.datasets import AudioDataset, AudioMetadataDataset, ClipFolderDataset
from gtzan_kedro.errors import InputError
from gtzan_kedro.pipelines.ingestion import nodes
from gtzan_kedro.pipelines.ingestion.nodes import build_track_table, find_label_set
from tests.conftest import deadline
from tests.sources.gtzan_copies import gtzan_files, write_tar, write_tree, write_zip

LOCAL = {"source": "local", "checks": {"silence_db": -60.0, "min_seconds": 0.5}}


def acquire_clips(ingestion: dict, seed: int) -> dict:
    """The clips the ``acquire_clips`` node hands to the raw folder (a local copy has no index)."""
    clips, index = nodes.acquire_clips(ingestion, seed)
    assert index.empty
    return clips


def save_raw(clips: dict, raw: Path) -> None:
    """Write acquired clips through the catalog's raw_clips dataset."""
    ClipFolderDataset(path=str(raw), dataset={"type": AudioDataset, "sample_rate": 22050}).save(
        clips
    )


def track_table(raw: Path, ingestion: dict = LOCAL, source_index: pd.DataFrame | None = None):
    """The track table of the gtzan folder of ``raw``."""
    clips = ClipFolderDataset(path=str(raw), dataset={"type": AudioDataset, "sample_rate": 22050})
    headers = ClipFolderDataset(path=str(raw), dataset={"type": AudioMetadataDataset})
    partitions = clips.load()
    label_set = find_label_set(partitions, ingestion)
    index = pd.DataFrame() if source_index is None else source_index
    return build_track_table(partitions, headers.load(), index, label_set, ingestion)


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


def local(path: Path) -> dict:
    """The ingestion parameters of a local copy at ``path``."""
    return {**LOCAL, "local_path": str(path)}


def test_switching_to_another_copy_mirrors_it_and_logs_what_changed(tmp_path: Path, caplog):
    first = gtzan_files("au")
    write_tree(tmp_path / "first", first)
    second = dict(first)
    del second["rock/rock.00001.au"]
    second["blues/blues.00000.au"] = gtzan_files("au")["jazz/jazz.00001.au"]  # same name, new
    second["blues/blues.00007.au"] = first["blues/blues.00001.au"]
    write_tree(tmp_path / "second", second)
    raw = tmp_path / "01_raw"
    save_raw(acquire_clips(local(tmp_path / "first"), seed=1), raw)
    kept = raw / "gtzan" / "jazz" / "jazz.00000.au"
    kept_mtime = kept.stat().st_mtime_ns

    with caplog.at_level(logging.INFO):
        save_raw(acquire_clips(local(tmp_path / "second"), seed=1), raw)

    on_disk = {p.relative_to(raw / "gtzan").as_posix(): p.read_bytes() for p in raw.rglob("*.au")}
    assert on_disk == second
    assert kept.stat().st_mtime_ns == kept_mtime  # unchanged clips are not written again
    assert "4 unchanged, 1 added, 1 changed (taken again), 1 removed" in caplog.text
    assert "Took 'gtzan/blues/blues.00000.au' again" in caplog.text
    assert "Removed 'gtzan/rock/rock.00001.au'" in caplog.text
    assert "rock.00001" not in set(track_table(raw)["track_id"])


def test_manifest_records_size_and_hash_of_every_clip(tmp_path: Path):
    files = gtzan_files("wav")
    write_tree(tmp_path / "copy", files)
    raw = tmp_path / "01_raw"

    save_raw(acquire_clips(local(tmp_path / "copy"), seed=1), raw)

    manifest = json.loads((raw / "gtzan" / ".manifest.json").read_text())
    assert {key.removeprefix("gtzan/") for key in manifest} == set(files)
    entry = manifest["gtzan/jazz/jazz.00001.wav"]
    assert entry["size"] == len(files["jazz/jazz.00001.wav"])
    assert entry["sha256"] == hashlib.sha256(files["jazz/jazz.00001.wav"]).hexdigest()
    assert [p.name for p in (raw / "gtzan").iterdir() if p.name.startswith(".")] == [
        ".manifest.json"
    ]


def test_unchanged_archive_is_not_extracted_again(tmp_path: Path, caplog):
    archive = write_tar(tmp_path / "genres.tar.gz", gtzan_files("au", prefix="genres/"))
    raw = tmp_path / "01_raw"
    save_raw(acquire_clips(local(archive), seed=1), raw)
    caplog.clear()  # only the second run's log counts

    with caplog.at_level(logging.INFO):
        save_raw(acquire_clips(local(archive), seed=1), raw)

    assert "Extracting" not in caplog.text
    assert "6 unchanged, 0 added, 0 changed (taken again), 0 removed" in caplog.text


def test_file_changed_in_the_same_folder_is_taken_again(tmp_path: Path):
    files = gtzan_files("wav")
    copy = write_tree(tmp_path / "copy", files)
    raw = tmp_path / "01_raw"
    save_raw(acquire_clips(local(copy), seed=1), raw)
    replacement = gtzan_files("wav")["rock/rock.00000.wav"]
    (copy / "blues" / "blues.00001.wav").write_bytes(replacement)

    save_raw(acquire_clips(local(copy), seed=1), raw)

    assert (raw / "gtzan" / "blues" / "blues.00001.wav").read_bytes() == replacement


def test_clip_outside_the_label_folders_is_copied_and_listed_with_its_status(
    tmp_path: Path, caplog
):
    files = {**gtzan_files("wav"), "notagenre/stray.wav": gtzan_files("wav")["jazz/jazz.00000.wav"]}
    copy = write_tree(tmp_path / "copy", files)
    raw = tmp_path / "01_raw"
    chosen = {**local(copy), "labels": ["rock", "blues", "jazz"]}

    save_raw(acquire_clips(chosen, seed=1), raw)
    with caplog.at_level(logging.WARNING):
        table = track_table(raw, chosen).set_index("track_id")

    assert (raw / "gtzan" / "notagenre" / "stray.wav").read_bytes() == files["notagenre/stray.wav"]
    assert table.loc["stray", "status"] == "unknown_genre"
    assert (
        "'notagenre' is not a label of this collection (rock, blues, jazz)"
        in (table.loc["stray", "problem"])
    )
    assert table.loc["rock.00000", "label"] == 0 and table.loc["jazz.00001", "label"] == 2
    assert "gtzan/notagenre/stray.wav" in caplog.text
    assert (table.drop(index="stray")["status"] == "ok").all()


def test_links_leaving_the_folder_dangling_links_and_fifos_are_listed_never_read(tmp_path: Path):
    copy = write_tree(tmp_path / "copy", gtzan_files("wav"))
    secret = tmp_path / "secret.wav"
    secret.write_bytes(b"password file")
    (copy / "blues" / "blues.00010.wav").symlink_to(secret)
    (copy / "blues" / "blues.00011.wav").symlink_to(tmp_path / "gone.wav")
    os.mkfifo(copy / "jazz" / "jazz.00010.wav")  # opening it for reading would block
    (copy / "rock" / "rock.00010.wav").symlink_to(copy / "jazz" / "jazz.00000.wav")
    raw = tmp_path / "01_raw"

    with deadline(60):
        clips, index = nodes.acquire_clips(local(copy), seed=1)
        save_raw(clips, raw)
    table = track_table(raw, local(copy), index).set_index("track_id")

    assert table.loc["blues.00010", "status"] == "link_outside"
    assert f"'{secret}', outside the source folder" in table.loc["blues.00010", "problem"]
    assert table.loc["blues.00011", "status"] == "dangling_link"
    assert "gone.wav', which does not exist" in table.loc["blues.00011", "problem"]
    assert table.loc["jazz.00010", "status"] == "not_a_file"
    assert "named pipe (FIFO)" in table.loc["jazz.00010", "problem"]
    assert (
        table.loc["blues.00010", "genre"] == "blues" and table.loc["jazz.00010", "genre"] == "jazz"
    )
    # A link that stays inside the folder is followed.
    assert table.loc["rock.00010", "status"] == "ok"
    assert (raw / "gtzan" / "rock" / "rock.00010.wav").read_bytes() == (
        copy / "jazz" / "jazz.00000.wav"
    ).read_bytes()
    assert not any(b"password" in path.read_bytes() for path in raw.rglob("*.wav"))
    assert not (raw / "gtzan" / "jazz" / "jazz.00010.wav").exists()
    assert (table.drop(index=["blues.00010", "blues.00011", "jazz.00010"])["status"] == "ok").all()
