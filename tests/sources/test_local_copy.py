"""Every layout of a GTZAN copy on disk is recognised, read unchanged and checked for safety."""

import logging
import tarfile
import tempfile
from pathlib import Path

import pytest

from gtzan_kedro.errors import InputError
from gtzan_kedro.sources.gtzan import gtzan_clips
from gtzan_kedro.sources.local_copy import open_local_copy
from tests.sources.gtzan_copies import gtzan_files, write_tar, write_tree, write_zip

CLIP_KEYS = sorted(
    f"{genre}/{genre}.{index:05d}" for genre in ("blues", "jazz", "rock") for index in range(2)
)


def read_all(copy) -> dict[str, bytes]:
    """Read every clip of a copy, in the sorted order ClipFolderDataset uses."""
    return {key: copy.clips[key]() for key in sorted(copy.clips)}


def keys_without_extension(clips) -> list[str]:
    return sorted(key.rsplit(".", 1)[0] for key in clips)


def test_original_archive_of_au_files_is_recognised(tmp_path: Path):
    files = gtzan_files("au", prefix="genres/")
    archive = write_tar(tmp_path / "genres.tar.gz", files)

    copy = open_local_copy(archive)

    assert (copy.kind, copy.root) == ("tar archive", "genres")
    assert keys_without_extension(copy.clips) == CLIP_KEYS
    assert read_all(copy)["blues/blues.00001.au"] == files["genres/blues/blues.00001.au"]


def test_kaggle_zip_of_wav_files_is_recognised_and_its_other_files_ignored(tmp_path: Path):
    files = gtzan_files("wav", prefix="Data/genres_original/")
    extras = {
        "Data/features_30_sec.csv": b"filename,label\n",
        "Data/images_original/blues/blues00000.png": b"\x89PNG",
        "__MACOSX/Data/genres_original/blues/._blues.00000.wav": b"junk",
    }
    archive = write_zip(tmp_path / "archive.zip", {**files, **extras})

    copy = open_local_copy(archive)

    assert (copy.kind, copy.root) == ("zip archive", "Data/genres_original")
    assert sorted(copy.clips) == [f"{key}.wav" for key in CLIP_KEYS]
    assert (
        read_all(copy)["jazz/jazz.00000.wav"] == files["Data/genres_original/jazz/jazz.00000.wav"]
    )


def test_plain_folder_of_genre_folders_is_recognised(tmp_path: Path):
    files = gtzan_files("wav")
    write_tree(tmp_path / "gtzan", files)

    copy = open_local_copy(tmp_path / "gtzan")

    assert (copy.kind, copy.root) == ("folder", "")
    assert read_all(copy) == dict(sorted(files.items()))


def test_extracted_archive_folder_is_recognised(tmp_path: Path):
    write_tree(tmp_path / "download", gtzan_files("au", prefix="genres/"))
    (tmp_path / "download" / "genres" / "bextract_single.mf").write_text("marsyas file list")

    copy = open_local_copy(tmp_path / "download")

    assert (copy.kind, copy.root) == ("folder", "genres")
    assert sorted(copy.clips) == [f"{key}.au" for key in CLIP_KEYS]


def test_folder_holding_only_the_archive_uses_the_archive(tmp_path: Path):
    write_tar(tmp_path / "genres.tar.gz", gtzan_files("au", prefix="genres/"))

    copy = open_local_copy(tmp_path)

    assert copy.kind == "tar archive"
    assert len(copy.clips) == len(CLIP_KEYS)


def test_second_set_of_genre_folders_is_ignored_with_a_warning(tmp_path: Path, caplog):
    write_tree(tmp_path, gtzan_files("wav", prefix="genres_original/"))
    write_tree(tmp_path, {"backup/blues/blues.00000.wav": b"old copy"})

    with caplog.at_level(logging.WARNING):
        copy = open_local_copy(tmp_path)

    assert copy.root == "genres_original"
    assert "Ignored 1 clips under 'backup'" in caplog.text


# Sorted clip keys are blues 0, 1, jazz 0, 1, rock 0, 1; these are archive orders by index.
# "interleaved" keeps clips on disk, hands some out, then keeps more while others still wait.
@pytest.mark.parametrize(
    "order", [[5, 4, 3, 2, 1, 0], [2, 4, 0, 1, 5, 3]], ids=["reversed", "interleaved"]
)
def test_tar_stored_out_of_order_is_read_in_one_pass_without_mixing_clips(tmp_path: Path, order):
    files = gtzan_files("au", prefix="genres/")
    names = sorted(files)
    archive = write_tar(tmp_path / "shuffled.tar.gz", {names[i]: files[names[i]] for i in order})

    copy = open_local_copy(archive)

    expected = {name.removeprefix("genres/"): data for name, data in files.items()}
    assert read_all(copy) == dict(sorted(expected.items()))
    # Asked again after everything was read: a fresh pass from the start still finds it.
    assert copy.clips["rock/rock.00001.au"]() == expected["rock/rock.00001.au"]


def _member(name: str, kind: bytes = tarfile.REGTYPE, linkname: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = linkname
    info.size = 4 if kind == tarfile.REGTYPE else 0
    return info


@pytest.mark.parametrize(
    ("member", "reason"),
    [
        (_member("genres/blues/../../../escaped.au"), "a '..' path"),
        (_member("/tmp/escaped.au"), "an absolute path"),
        (_member("genres/blues/link.au", tarfile.SYMTYPE, "/etc/passwd"), "a link"),
        (_member("genres/blues/hard.au", tarfile.LNKTYPE, "../../outside"), "a link"),
    ],
    ids=["dotdot", "absolute", "symlink", "hardlink"],
)
def test_tar_with_a_member_escaping_the_target_is_refused(tmp_path: Path, member, reason):
    archive = write_tar(tmp_path / "evil.tar.gz", gtzan_files("au", prefix="genres/"), [member])

    with pytest.raises(InputError, match=rf"Refused archive .*'{member.name}' is {reason}"):
        open_local_copy(archive)


def test_zip_with_a_member_escaping_the_target_is_refused(tmp_path: Path):
    archive = write_zip(tmp_path / "evil.zip", {**gtzan_files(), "../escaped.wav": b"RIFF"})

    with pytest.raises(InputError, match=r"'\.\./escaped\.wav' is a '\.\.' path"):
        open_local_copy(archive)


def test_damaged_archive_is_a_clear_error(tmp_path: Path):
    archive = write_tar(tmp_path / "genres.tar.gz", gtzan_files("au", prefix="genres/"))
    archive.write_bytes(archive.read_bytes()[:200])

    with pytest.raises(InputError, match="damaged or incomplete"):
        open_local_copy(archive)


@pytest.mark.parametrize("local_path", [None, ""])
def test_local_path_not_set_names_the_parameter(local_path):
    with pytest.raises(InputError, match=r"ingestion\.local_path is not set"):
        gtzan_clips({"source": "local", "local_path": local_path}, downloads=None)


def test_local_path_that_does_not_exist_names_the_parameter(tmp_path: Path):
    with pytest.raises(InputError, match=r"ingestion\.local_path='.*nowhere' does not exist"):
        gtzan_clips({"source": "local", "local_path": str(tmp_path / "nowhere")}, downloads=None)


def test_folder_without_genre_folders_is_a_clear_error(tmp_path: Path):
    write_tree(tmp_path, {"music/song.wav": b"RIFF", "notes.txt": b"hello"})

    with pytest.raises(InputError, match=r"No GTZAN genre folders in .*ingestion\.local_path"):
        gtzan_clips({"source": "local", "local_path": str(tmp_path)}, downloads=None)


def test_file_that_is_not_an_archive_is_a_clear_error(tmp_path: Path):
    (tmp_path / "genres.rar").write_bytes(b"Rar!")

    with pytest.raises(InputError, match="neither a folder nor an archive"):
        open_local_copy(tmp_path / "genres.rar")


def test_archive_without_genre_folders_is_a_clear_error(tmp_path: Path):
    archive = write_zip(tmp_path / "music.zip", {"music/song.wav": b"RIFF"})

    with pytest.raises(InputError, match=r"No GTZAN clips in .*music\.zip.*genre folders"):
        open_local_copy(archive)


def test_special_file_in_a_tar_is_refused(tmp_path: Path):
    fifo = _member("genres/blues/pipe.au", tarfile.FIFOTYPE)
    archive = write_tar(tmp_path / "evil.tar.gz", gtzan_files("au", prefix="genres/"), [fifo])

    with pytest.raises(InputError, match=r"'genres/blues/pipe\.au' is a device or special file"):
        open_local_copy(archive)


def test_extraction_goes_through_the_filter_too(tmp_path: Path, monkeypatch):
    files = gtzan_files("au", prefix="genres/")
    archive = write_tar(tmp_path / "genres.tar.gz", files)
    copy = open_local_copy(archive)
    # Swapped for a hostile archive after it was listed: extraction must refuse it by itself.
    escape = _member("genres/blues/../../../../escaped.au")
    write_tar(archive, files, [escape])
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "temp"))
    (tmp_path / "temp").mkdir()

    with pytest.raises(InputError, match=r"Refused archive .*escaped\.au' is a '\.\.' path"):
        copy.clips["blues/blues.00000.au"]()

    assert not list(tmp_path.rglob("escaped.au"))
    assert list((tmp_path / "temp").iterdir()) == []  # the partial extraction is gone


def test_clips_outside_genre_folders_are_listed_under_the_root_only(tmp_path: Path):
    files = gtzan_files("wav", prefix="Data/genres_original/")
    extras = {
        "Data/genres_original/stray.wav": b"RIFF",
        "Data/genres_original/notagenre/other.wav": b"RIFF",
        "Data/elsewhere/outside.wav": b"RIFF",
        "Data/genres_original/notes.txt": b"not audio",
    }
    archive = write_zip(tmp_path / "archive.zip", {**files, **extras})

    copy = open_local_copy(archive)

    assert sorted(copy.clips) == sorted(
        [f"{key}.wav" for key in CLIP_KEYS] + ["notagenre/other.wav", "stray.wav"]
    )
