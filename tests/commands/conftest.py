"""Fixtures of the command tests: the commands as typed, in a throw-away project copy."""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import pytest

# run_command, command_env, BIN, TinyRun and the session's `tiny_run` live in tests/conftest.py
# (every directory's tests share the one trained project); imported here under their old home.
from tests.conftest import (  # noqa: F401
    BIN,
    PROJECT_ROOT,
    TINY_RUN_ARCHITECTURES,
    TinyRun,
    command_env,
    copy_project,
    run_command,
)

ARTIFACTS = PROJECT_ROOT / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")
# Flags this machine needs (no sandbox as root, no GPU, nothing fetched in the background).
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # The page may only reach the server under test (kedro-viz links Google Fonts).
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
]
# The architectures the shared trained project (`tiny_run`, tests/conftest.py) trains.
ARCHITECTURES = TINY_RUN_ARCHITECTURES


def free_port() -> int:
    """A TCP port on the loopback interface that nothing listens on, below 49152.

    kedro-viz refuses ports in the ephemeral range (above 49151), where the system's own
    choice of a free port usually lands.
    """
    for port in random.sample(range(20000, 40000), 200):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("No free TCP port between 20000 and 40000 on 127.0.0.1.")


@contextmanager
def background(*args: str, cwd: Path, log: Path) -> Iterator[subprocess.Popen]:
    """Run a console script in its own process group; stop the whole group afterwards."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w") as output:
        process = subprocess.Popen(
            [str(BIN / args[0]), *args[1:]],
            cwd=cwd,
            env=command_env(),
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            yield process
        finally:
            stop_group(process)


def stop_group(process: subprocess.Popen) -> None:
    """Stop a process started in its own group, and everything it started (workers, servers)."""
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    with suppress(subprocess.TimeoutExpired):
        process.wait(timeout=15)
    with suppress(ProcessLookupError):  # whatever ignored SIGTERM, or outlived its parent
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def wait_for_http(url: str, process: subprocess.Popen, log: Path, timeout: float = 120) -> None:
    """Wait until ``url`` answers 200; fail with the server's log if it exits or times out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"Server exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.5)
    pytest.fail(f"{url} did not answer within {timeout:.0f} s:\n{log.read_text()[-3000:]}")


def require_chromium() -> Path:
    """Chromium's path; skip without it, but fail in CI (``CI=true``), where .ci/run installs it."""
    missing = None
    if not CHROMIUM.exists():
        missing = f"Chromium is not installed at {CHROMIUM} (apt-get install -y chromium)"
    try:
        import playwright.sync_api  # noqa: F401, PLC0415
    except ImportError:
        missing = missing or "the playwright package is missing (pip install -e '.[dev]')"
    if missing and os.environ.get("CI") == "true":
        pytest.fail(f"CI=true but {missing}: .ci/run installs it before `make test`.")
    if missing:
        pytest.skip(f"{missing}; the browser test needs it.")
    return CHROMIUM


@pytest.fixture
def plain_project(tmp_path: Path) -> Path:
    """A project copy with empty data layers: enough for commands that read no data."""
    return copy_project(PROJECT_ROOT, tmp_path)
