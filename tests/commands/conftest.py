"""Fixtures of the command tests: the commands as typed, in a throw-away project copy."""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import PROJECT_ROOT, copy_project

BIN = Path(sys.executable).parent  # the virtual environment's console scripts
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
# A tiny embedded dataset and tiny models: the whole project runs in well under a minute.
TINY_FEATURES = ",".join(
    [
        "ingestion.generator.clips_per_genre=4",
        "ingestion.generator.clip_seconds=3.0",
        "feature_engineering.split.validation_size=0.25",
        "feature_engineering.split.test_size=0.25",
        "feature_engineering.feature_sets.log_mel.window.frames=32",
        "feature_engineering.feature_sets.log_mel.window.hop=16",
        "feature_engineering.executor.n_jobs=1",
    ]
)
TINY_TRAINING = "modelling.training.epochs=2,modelling.training.batch_size=16"
ARCHITECTURES = ["mlp", "svm"]


def command_env() -> dict[str, str]:
    """The environment of a command typed in a shell, telemetry off as in the Makefile."""
    env = os.environ.copy()
    env.update(KEDRO_DISABLE_TELEMETRY="true", DO_NOT_TRACK="1")
    return env


def run_command(*args: str, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    """Run a console script of the virtual environment; output captured, no terminal."""
    return subprocess.run(
        [str(BIN / args[0]), *args[1:]],
        cwd=cwd,
        env=command_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


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


@dataclass(frozen=True)
class TinyRun:
    """A project copy after `kedro run` of every pipeline, and what each run printed."""

    project: Path
    logs: dict[str, str]


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory: pytest.TempPathFactory) -> TinyRun:
    """The project as after `make run`, on tiny settings: data, models, reports, MLflow store."""
    # Its MLflow store is mlflow.db in the copy's root, where `mlflow ui` finds it.
    project = copy_project(PROJECT_ROOT, tmp_path_factory.mktemp("commands"))
    runs = {
        "features": ["--pipelines", "ingestion,feature_engineering", "--params", TINY_FEATURES],
        "modelling": [
            "--pipeline",
            "modelling",
            "--namespaces",
            ",".join(ARCHITECTURES),
            "--params",
            f"{TINY_FEATURES},{TINY_TRAINING}",
        ],
        "reporting": ["--pipeline", "reporting", "--params", TINY_FEATURES],
    }
    logs = {}
    for name, options in runs.items():
        result = run_command("kedro", "run", *options, cwd=project)
        logs[name] = result.stdout + result.stderr
        assert result.returncode == 0, f"kedro run ({name}) failed:\n{logs[name][-5000:]}"
    return TinyRun(project=project, logs=logs)


@pytest.fixture
def plain_project(tmp_path: Path) -> Path:
    """A project copy with empty data layers: enough for commands that read no data."""
    return copy_project(PROJECT_ROOT, tmp_path)
