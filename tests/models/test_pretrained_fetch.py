"""Fetching a pinned wheel with pip, against a package index served on 127.0.0.1."""

from __future__ import annotations

import functools
import hashlib
import http.server
import socket
import subprocess
import threading
import zipfile
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from gtzan_kedro.errors import InputError
from gtzan_kedro.musicnn import wheel as pretrained
from gtzan_kedro.musicnn.wheel import MUSICNN_WHEEL, fetch_wheel, licence_text, read_member

LICENCE = "Copyright (c) a test.\n\nPermission to use this fake wheel is granted.\n"


def make_fake_wheel(path: Path) -> Path:
    """A small but valid musicnn-0.1.0 wheel (pip reads its metadata) with a licence."""
    dist_info = "musicnn-0.1.0.dist-info"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("musicnn/__init__.py", "")
        archive.writestr("musicnn/MSD_musicnn/.index", b"not a real checkpoint")
        archive.writestr(
            f"{dist_info}/METADATA", "Metadata-Version: 2.1\nName: musicnn\nVersion: 0.1.0\n"
        )
        archive.writestr(
            f"{dist_info}/WHEEL", "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        )
        archive.writestr(f"{dist_info}/LICENSE.md", LICENCE)
        archive.writestr(f"{dist_info}/RECORD", "")
    return path


@pytest.fixture(scope="module")
def package_index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """A PEP 503 simple index on 127.0.0.1 holding the fake wheel: ``(index url, wheel)``."""
    root = tmp_path_factory.mktemp("index")
    wheel = make_fake_wheel(root / MUSICNN_WHEEL.filename)
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    project = root / "simple" / "musicnn"
    project.mkdir(parents=True)
    (project / "index.html").write_text(
        f'<html><body><a href="../../{wheel.name}#sha256={digest}">{wheel.name}</a></body></html>'
    )
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/simple", wheel
    server.shutdown()
    server.server_close()


def fake_spec(wheel: Path) -> pretrained.WheelSpec:
    """The musicnn pin, with the fake wheel's checksum."""
    return replace(MUSICNN_WHEEL, sha256=hashlib.sha256(wheel.read_bytes()).hexdigest())


def test_checksum_mismatch_is_refused_and_deleted(package_index, tmp_path: Path) -> None:
    """A download that is not the pinned file is refused and nothing of it stays in the cache."""
    index_url, _ = package_index
    with pytest.raises(InputError, match="Refused pip's download.*expected f38a4890.*deleted"):
        fetch_wheel(tmp_path, index_url=index_url)
    assert list(tmp_path.iterdir()) == []


def test_handed_over_wheel_is_checked_and_the_original_kept(package_index, tmp_path: Path) -> None:
    """A wheel given by path passes the same check; the user's own file is never deleted."""
    _, wheel = package_index
    with pytest.raises(InputError, match="Refused"):
        fetch_wheel(tmp_path / "cache", wheel=wheel)
    assert wheel.is_file()
    assert list((tmp_path / "cache").iterdir()) == []
    cached = fetch_wheel(tmp_path / "cache", spec=fake_spec(wheel), wheel=wheel)
    assert cached.read_bytes() == wheel.read_bytes()


def test_unreachable_index_says_how_to_hand_the_wheel_over(tmp_path: Path) -> None:
    """With no index to reach, one line says so and names the wheel parameter."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    with pytest.raises(InputError) as raised:
        fetch_wheel(tmp_path, index_url=f"http://127.0.0.1:{closed_port}/simple")
    message = str(raised.value)
    assert "\n" not in message
    assert "pip could not download musicnn==0.1.0" in message
    assert f"127.0.0.1:{closed_port}/simple (the index could not be reached)" in message
    assert "wheel=/path/to/musicnn-0.1.0-py3-none-any.whl" in message
    assert list(tmp_path.iterdir()) == []


def test_cached_wheel_is_reused_without_pip(package_index, tmp_path: Path, monkeypatch) -> None:
    """The first call downloads and caches; later calls never start pip."""
    index_url, wheel = package_index
    spec = fake_spec(wheel)
    cached = fetch_wheel(tmp_path, spec=spec, index_url=index_url)
    assert cached == tmp_path / MUSICNN_WHEEL.filename
    assert cached.read_bytes() == wheel.read_bytes()

    def no_network(*args, **kwargs):
        raise AssertionError("pip was started although the wheel is cached")

    monkeypatch.setattr(subprocess, "run", no_network)
    assert fetch_wheel(tmp_path, spec=spec, index_url=index_url) == cached
    assert licence_text(cached) == LICENCE
    assert read_member(cached, "musicnn/MSD_musicnn/.index") == b"not a real checkpoint"
    with pytest.raises(InputError, match="no member 'musicnn/MTT_musicnn/.index'"):
        read_member(cached, "musicnn/MTT_musicnn/.index")
