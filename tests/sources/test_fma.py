"""The FMA source: a copy as folders or zips, or downloaded, read through tracks.csv."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from gtzan_kedro.errors import InputError
from gtzan_kedro.sources import SOURCES
from tests.sources.fma_copies import fma_copy
from tests.sources.gtzan_copies import serving

FMA = SOURCES["fma"].read


def settings(path: Path | None = None, **extra) -> dict:
    """The ingestion parameters of an fma_small copy at ``path``."""
    return {"source": "fma", "fma": {"path": str(path), "subset": "small", **extra}}


@pytest.fixture(scope="module")
def copy(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, list[int]]]:
    """A tiny fma_small copy as folders, and the track ids of each kind."""
    root = tmp_path_factory.mktemp("fma")
    return root, fma_copy(root)


def zipped(source: Path, target: Path) -> Path:
    """The copy as FMA publishes it: fma_metadata.zip and fma_small.zip."""
    target.mkdir()
    for name in ("fma_metadata", "fma_small"):
        shutil.make_archive(str(target / name), "zip", root_dir=source, base_dir=name)
    return target


def test_clips_are_labelled_with_their_top_genre_and_the_rest_is_listed(copy):
    root, kinds = copy

    collection = FMA(settings(root), seed=1, downloads=None)

    index = collection.index.set_index("track_id")
    assert "Hip-Hop/000012.mp3" in collection.clips
    assert {key.split("/")[0] for key in collection.clips} == {"Rock", "Electronic", "Hip-Hop"}
    # Fifteen labelled tracks with audio and the broken one: decoding it is ingestion's check.
    assert len(collection.clips) == 16
    assert index.loc[f"{kinds['no_label'][0]:06d}", "status"] == "no_label"
    assert index.loc[f"{kinds['missing'][0]:06d}", "status"] == "missing"
    assert "fma_small/000/0000" in index.loc[f"{kinds['missing'][0]:06d}", "problem"]
    assert f"{kinds['medium'][0]:06d}" not in index.index  # another subset
    assert index.loc["000002", "dataset_split"] == "training"
    assert index.loc["000006", "dataset_split"] == "test"


def test_the_zips_as_published_give_the_same_clips(copy, tmp_path: Path):
    root, _ = copy
    from_folders = FMA(settings(root), seed=1, downloads=None)

    from_zips = FMA(settings(zipped(root, tmp_path / "zips")), seed=1, downloads=None)

    assert sorted(from_zips.clips) == sorted(from_folders.clips)
    assert from_zips.clips["Rock/000002.mp3"]() == from_folders.clips["Rock/000002.mp3"]()


def test_a_folder_without_tracks_csv_says_what_to_get(tmp_path: Path):
    (tmp_path / "fma_small").mkdir()

    with pytest.raises(InputError, match=r"No fma_metadata/tracks\.csv in .*ingestion\.fma\.path"):
        FMA(settings(tmp_path), seed=1, downloads=None)


def test_a_tracks_csv_without_genre_top_is_not_fmas(copy, tmp_path: Path):
    root, _ = copy
    shutil.copytree(root, tmp_path / "copy")
    tracks = tmp_path / "copy" / "fma_metadata" / "tracks.csv"
    tracks.write_text(tracks.read_text().replace("genre_top", "genre_main"))

    with pytest.raises(InputError, match=r"has no column track\.genre_top: it is not FMA's"):
        FMA(settings(tmp_path / "copy"), seed=1, downloads=None)


def test_an_unknown_subset_names_the_parameter(copy):
    root, _ = copy

    with pytest.raises(InputError, match=r"ingestion\.fma\.subset='tiny'"):
        FMA({"source": "fma", "fma": {"path": str(root), "subset": "tiny"}}, seed=1, downloads=None)


def test_download_fetches_both_zips_checked_and_resumed(copy, tmp_path: Path):
    root, _ = copy
    zips = zipped(root, tmp_path / "served")
    data = {name: (zips / f"fma_{name}.zip").read_bytes() for name in ("metadata", "small")}
    checksums = {name: f"sha1:{hashlib.sha1(body).hexdigest()}" for name, body in data.items()}
    downloads = tmp_path / "downloads"

    with serving() as server:
        for name, body in data.items():
            server.files[f"/fma/fma_{name}.zip"] = body
        server.cut_once["/fma/fma_small.zip"] = 0.5
        parameters = settings(
            None, download=True, url=f"{server.url}/fma", checksums=checksums, timeout_s=5
        )
        collection = FMA(parameters, seed=1, downloads=downloads)

    assert (downloads / "fma_small.zip").read_bytes() == data["small"]
    # The cut transfer was resumed where it stopped, not started again.
    first, resumed = server.ranges("/fma/fma_small.zip")
    assert first is None
    assert 0 < int(resumed.removeprefix("bytes=").rstrip("-")) <= len(data["small"]) // 2
    assert len(collection.clips) == 16


def test_a_download_that_does_not_match_its_checksum_is_refused(copy, tmp_path: Path):
    root, _ = copy
    zips = zipped(root, tmp_path / "served")
    checksums = {"metadata": "sha1:" + "0" * 40, "small": "sha1:" + "0" * 40}

    with serving() as server:
        server.files["/fma/fma_metadata.zip"] = (zips / "fma_metadata.zip").read_bytes()
        parameters = settings(
            None, download=True, url=f"{server.url}/fma", checksums=checksums, timeout_s=5
        )
        with pytest.raises(
            InputError,
            match=r"(?s)Could not download FMA's 'fma_metadata\.zip'.*"
            r"checksum mismatch \(ingestion\.fma\.checksums\.metadata\)",
        ):
            FMA(parameters, seed=1, downloads=tmp_path / "downloads")

    assert not (tmp_path / "downloads" / "fma_metadata.zip").exists()
