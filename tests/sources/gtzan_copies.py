"""Tiny GTZAN copies in every layout, and an HTTP server on 127.0.0.1 to serve them."""

from __future__ import annotations

import io
import re
import tarfile
import threading
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import soundfile as sf

from tests.conftest import SAMPLE_RATE, tone

GENRES_USED = ("blues", "jazz", "rock")
CLIPS_PER_GENRE = 2


def clip_bytes(genre_index: int, index: int, audio_format: str) -> bytes:
    """Return a 0.6 s tone (long enough for the ingestion checks) as WAV or AU, unique per clip."""
    buffer = io.BytesIO()
    samples = tone(200.0 + 100 * genre_index + 10 * index, seconds=0.6)
    sf.write(buffer, samples, SAMPLE_RATE, subtype="PCM_16", format=audio_format)
    return buffer.getvalue()


def gtzan_files(extension: str = "wav", prefix: str = "") -> dict[str, bytes]:
    """Return ``{archive path: bytes}`` of tiny clips as ``<prefix><genre>/<genre>.000NN.<ext>``."""
    return {
        f"{prefix}{genre}/{genre}.{index:05d}.{extension}": clip_bytes(g, index, extension.upper())
        for g, genre in enumerate(GENRES_USED)
        for index in range(CLIPS_PER_GENRE)
    }


def write_tree(root: Path, files: dict[str, bytes]) -> Path:
    """Write ``files`` under ``root`` and return ``root``."""
    for name, data in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    return root


def write_tar(path: Path, files: dict[str, bytes], extra: list[tarfile.TarInfo] = ()) -> Path:
    """Write a gzip-compressed tar of ``files`` (in the given order) plus raw ``extra`` members."""
    with tarfile.open(path, "w:gz") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
        for info in extra:
            archive.addfile(info, io.BytesIO(b"x" * info.size) if info.isfile() else None)
    return path


def write_zip(path: Path, files: dict[str, bytes]) -> Path:
    """Write a zip of ``files``."""
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return path


@dataclass
class Server:
    """What the test server serves and what it was asked."""

    url: str
    files: dict[str, bytes] = field(default_factory=dict)
    # Paths whose next response is cut after this fraction of the body, once.
    cut_once: dict[str, float] = field(default_factory=dict)
    requests: list[tuple[str, str | None]] = field(default_factory=list)

    def ranges(self, path: str) -> list[str | None]:
        """Return the Range header of every request for ``path``."""
        return [header for requested, header in self.requests if requested == path]


def _handler(server: Server) -> type[BaseHTTPRequestHandler]:
    """Return a request handler serving ``server.files`` with Range support."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            server.requests.append((self.path, self.headers.get("Range")))
            data = server.files.get(self.path)
            if data is None:
                self.send_error(404)
                return
            start = 0
            match = re.fullmatch(r"bytes=(\d+)-", self.headers.get("Range") or "")
            if match:
                start = int(match.group(1))
                if start >= len(data):
                    self.send_response(416)
                    self.send_header("Content-Range", f"bytes */{len(data)}")
                    self.end_headers()
                    return
                self.send_response(206)
                self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
            else:
                self.send_response(200)
            body = data[start:]
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.path in server.cut_once:
                # Send part of the body, then drop the connection as a flaky network would.
                self.wfile.write(body[: int(len(body) * server.cut_once.pop(self.path))])
                self.wfile.flush()
                self.close_connection = True
                return
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:  # keep test output clean
            pass

    return Handler


@contextmanager
def serving() -> Iterator[Server]:
    """Run an HTTP server on 127.0.0.1 in a thread, serving whatever is put in ``files``."""
    server = Server(url="")
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(server))
    server.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield server
    httpd.shutdown()
    httpd.server_close()
