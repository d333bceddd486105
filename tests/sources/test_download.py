"""The downloader against a real HTTP server on 127.0.0.1: resume, checksum, mirrors, safety."""

import hashlib
import logging
import os
import socket
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from gtzan_kedro.errors import InputError
from gtzan_kedro.sources.download import fetch_archive
from gtzan_kedro.sources.gtzan import gtzan_clips
from tests.sources.gtzan_copies import Server, gtzan_files, serving, write_tar


@pytest.fixture
def http_server() -> Iterator[Server]:
    """An HTTP server on 127.0.0.1, with Range support, for this test alone."""
    with serving() as server:
        yield server


@pytest.fixture
def archive_bytes(tmp_path: Path) -> bytes:
    """A small genres.tar.gz of .au clips, as served by the mirrors.

    Random filler makes it several read chunks long, so that a cut half-way keeps some bytes.
    """
    files = {**gtzan_files("au", prefix="genres/"), "genres/filler.bin": os.urandom(300_000)}
    return write_tar(tmp_path / "source.tar.gz", files).read_bytes()


def settings(mirrors: list[str], data: bytes, algorithm: str = "sha256") -> dict:
    """The ingestion.download parameters for ``mirrors`` serving ``data``."""
    return {
        "mirrors": mirrors,
        "filename": "genres.tar.gz",
        "checksum": f"{algorithm}:{hashlib.new(algorithm, data).hexdigest()}",
        "timeout_s": 5,
        "attempts": 3,
    }


def test_good_download_is_verified_and_renamed_into_place(tmp_path, http_server, archive_bytes):
    http_server.files["/genres.tar.gz"] = archive_bytes
    downloads = tmp_path / "downloads"

    path = fetch_archive(settings([f"{http_server.url}/genres.tar.gz"], archive_bytes), downloads)

    assert path == downloads / "genres.tar.gz"
    assert path.read_bytes() == archive_bytes
    assert sorted(p.name for p in downloads.iterdir()) == ["genres.tar.gz"]


def test_md5_checksums_are_accepted(tmp_path, http_server, archive_bytes):
    http_server.files["/genres.tar.gz"] = archive_bytes

    path = fetch_archive(
        settings([f"{http_server.url}/genres.tar.gz"], archive_bytes, "md5"), tmp_path
    )

    assert path.read_bytes() == archive_bytes


def test_connection_cut_half_way_is_resumed_with_a_range_request(
    tmp_path, http_server, archive_bytes, caplog
):
    http_server.files["/genres.tar.gz"] = archive_bytes
    http_server.cut_once["/genres.tar.gz"] = 0.5

    with caplog.at_level(logging.WARNING):
        path = fetch_archive(
            settings([f"{http_server.url}/genres.tar.gz"], archive_bytes), tmp_path
        )

    first, resumed = http_server.ranges("/genres.tar.gz")
    assert first is None
    kept = int(resumed.removeprefix("bytes=").removesuffix("-"))
    assert 0 < kept <= len(archive_bytes) // 2
    assert path.read_bytes() == archive_bytes
    assert "interrupted at byte" in caplog.text


def test_partial_file_of_an_earlier_run_is_resumed(tmp_path, http_server, archive_bytes):
    http_server.files["/genres.tar.gz"] = archive_bytes
    (tmp_path / "genres.tar.gz.part").write_bytes(archive_bytes[:1000])

    path = fetch_archive(settings([f"{http_server.url}/genres.tar.gz"], archive_bytes), tmp_path)

    assert http_server.ranges("/genres.tar.gz") == ["bytes=1000-"]
    assert path.read_bytes() == archive_bytes


def test_archive_already_downloaded_is_not_fetched_again(tmp_path, http_server, archive_bytes):
    (tmp_path / "genres.tar.gz").write_bytes(archive_bytes)

    fetch_archive(settings([f"{http_server.url}/genres.tar.gz"], archive_bytes), tmp_path)

    assert http_server.requests == []


def test_wrong_checksum_is_rejected_and_nothing_is_left_in_place(
    tmp_path, http_server, archive_bytes
):
    http_server.files["/genres.tar.gz"] = archive_bytes
    wrong = settings([f"{http_server.url}/genres.tar.gz"], b"another archive")

    with pytest.raises(InputError, match=r"(?s)checksum .* does not match.*ingestion\.local_path"):
        fetch_archive(wrong, tmp_path / "downloads")

    assert list((tmp_path / "downloads").iterdir()) == []


def test_failed_mirror_is_logged_and_the_next_one_used(
    tmp_path, http_server, archive_bytes, caplog
):
    http_server.files["/good/genres.tar.gz"] = archive_bytes
    mirrors = [f"{http_server.url}/gone/genres.tar.gz", f"{http_server.url}/good/genres.tar.gz"]

    with caplog.at_level(logging.WARNING):
        path = fetch_archive(settings(mirrors, archive_bytes), tmp_path)

    assert path.read_bytes() == archive_bytes
    assert [path for path, _ in http_server.requests] == [
        "/gone/genres.tar.gz",
        "/good/genres.tar.gz",
    ]
    assert "/gone/genres.tar.gz failed: 404" in caplog.text


def test_when_every_mirror_fails_the_error_lists_them_and_the_manual_route(
    tmp_path, http_server, archive_bytes
):
    mirrors = [f"{http_server.url}/a.tar.gz", "http://127.0.0.1:9/closed.tar.gz"]

    with pytest.raises(InputError) as error:
        fetch_archive({**settings(mirrors, archive_bytes), "attempts": 1}, tmp_path)

    message = str(error.value)
    assert f"{http_server.url}/a.tar.gz: 404" in message
    assert "127.0.0.1:9/closed.tar.gz" in message
    assert "ingestion.source=local,ingestion.local_path=" in message


@pytest.mark.parametrize("checksum", [None, "sha1:abc", "sha256:not-hex"])
def test_missing_or_malformed_checksum_names_the_parameter(tmp_path, checksum):
    with pytest.raises(InputError, match=r"ingestion\.download\.checksum"):
        fetch_archive({"filename": "g.tar.gz", "checksum": checksum, "mirrors": []}, tmp_path)


def test_downloaded_archive_escaping_the_target_is_refused_and_writes_nothing_outside(
    tmp_path, http_server
):
    escape = tarfile.TarInfo("genres/blues/../../../../escaped.au")
    escape.size = 4
    evil = write_tar(tmp_path / "evil.tar.gz", gtzan_files("au", prefix="genres/"), [escape])
    http_server.files["/genres.tar.gz"] = evil.read_bytes()
    work = tmp_path / "work"
    ingestion = {
        "source": "download",
        "download": settings([f"{http_server.url}/genres.tar.gz"], evil.read_bytes()),
    }

    with pytest.raises(InputError, match=r"Refused archive .*escaped\.au' is a '\.\.' path"):
        gtzan_clips(ingestion, work / "data" / "01_raw" / "downloads")

    assert not list(tmp_path.rglob("escaped.au"))
    assert sorted(p.name for p in work.rglob("*") if p.is_file()) == ["genres.tar.gz"]


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_refused_connection_is_reported_as_such_and_the_next_mirror_used(
    tmp_path, http_server, archive_bytes, caplog
):
    http_server.files["/genres.tar.gz"] = archive_bytes
    down = f"http://127.0.0.1:{closed_port()}/genres.tar.gz"

    with caplog.at_level(logging.WARNING):
        path = fetch_archive(
            settings([down, f"{http_server.url}/genres.tar.gz"], archive_bytes), tmp_path
        )

    assert path.read_bytes() == archive_bytes
    assert f"Mirror {down} failed: could not connect to 127.0.0.1:" in caplog.text
    assert "Connection refused" in caplog.text
    assert "interrupted" not in caplog.text and "resuming" not in caplog.text


def test_refused_connection_alone_says_so_in_the_error(tmp_path, archive_bytes):
    down = f"http://127.0.0.1:{closed_port()}/genres.tar.gz"

    with pytest.raises(InputError) as error:
        fetch_archive(settings([down], archive_bytes), tmp_path)

    assert f"{down}: could not connect to 127.0.0.1:" in str(error.value)
    assert "Connection refused" in str(error.value)
    assert "cut" not in str(error.value) and "interrupted" not in str(error.value)


def test_mismatching_download_is_deleted_and_a_good_mirror_still_used(
    tmp_path, http_server, archive_bytes, caplog
):
    http_server.files["/bad/genres.tar.gz"] = b"tampered" + archive_bytes[8:]
    http_server.files["/good/genres.tar.gz"] = archive_bytes
    mirrors = [f"{http_server.url}/bad/genres.tar.gz", f"{http_server.url}/good/genres.tar.gz"]

    with caplog.at_level(logging.WARNING):
        path = fetch_archive(settings(mirrors, archive_bytes), tmp_path / "downloads")

    assert "bad/genres.tar.gz failed: checksum mismatch" in caplog.text
    assert "Deleted download" in caplog.text
    assert path.read_bytes() == archive_bytes
    assert sorted(p.name for p in path.parent.iterdir()) == ["genres.tar.gz"]


def test_transfer_cut_every_time_says_how_often_and_where(tmp_path, http_server, archive_bytes):
    http_server.files["/genres.tar.gz"] = archive_bytes
    http_server.cut_once["/genres.tar.gz"] = 0.5

    with pytest.raises(InputError, match=r"cut 1 times, last at byte \d+"):
        fetch_archive(
            {**settings([f"{http_server.url}/genres.tar.gz"], archive_bytes), "attempts": 1},
            tmp_path,
        )

    # What arrived is kept for the next run to resume.
    assert 0 < (tmp_path / "genres.tar.gz.part").stat().st_size < len(archive_bytes)
