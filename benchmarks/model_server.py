"""Shared by the serving benchmarks: a trained project copy, its model server, its memory.

``trained_project`` makes (or reuses, with ``--workdir``) a project copy trained on tiny
generated data (6 clips of 4 s per genre) for the architectures served, with the musicnn
wheel copied in so nothing is fetched. ``model_server`` starts the real
``mlflow models serve --env-manager local`` of one logged model on 127.0.0.1 in its own
process group and stops the whole group afterwards. ``TreeMemory`` samples the RSS and PSS
summed over the server's process tree (the ``mlflow`` command and the uvicorn process it
starts) every 50 ms.
"""

from __future__ import annotations

import base64
import http.client
import io
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import mlflow
import numpy as np
import psutil
import soundfile as sf
from full_size_features import PROJECT_ROOT, copy_project, copy_wheels, kedro_run
from mlflow.tracking import MlflowClient

from gtzan_kedro.sources.generator import synthesise_clip

SAMPLE_RATE = 22050
BIN = Path(sys.executable).parent
TRAINING = (
    "ingestion.source=generated,ingestion.generator.clips_per_genre=6,"
    "ingestion.generator.clip_seconds=4,modelling.training.epochs=2"
)


def trained_project(workdir: Path, architectures: list[str]) -> Path:
    """A project copy in ``workdir`` trained on ``architectures`` (kept if already there)."""
    project = workdir / "project"
    if not (project / "mlflow.db").exists():
        workdir.mkdir(parents=True, exist_ok=True)
        copy_project(PROJECT_ROOT, workdir, architectures=tuple(architectures))
        copy_wheels(project)
        kedro_run(project, ["--params", TRAINING], "training")
    return project


def logged_model_uri(project: Path, architecture: str) -> str:
    """The ``models:/`` URI of the latest model logged as ``architecture`` in the copy."""
    client = MlflowClient(tracking_uri=f"sqlite:///{project}/mlflow.db")
    experiment = client.get_experiment_by_name("gtzan-kedro")
    models = client.search_logged_models(
        [experiment.experiment_id],
        filter_string=f"name = '{architecture}'",
        order_by=[{"field_name": "creation_timestamp", "ascending": False}],
    )
    return models[0].model_uri


def served_model(project: Path, architecture: str, code: Path | None) -> str:
    """What the server loads: the logged model, or with ``code``, a copy that runs that code.

    A model carries the package's code as it was when it was logged; a copy whose
    ``code/gtzan_kedro`` is replaced by ``code`` measures other code on the same trained model.
    """
    uri = logged_model_uri(project, architecture)
    if code is None:
        return uri
    copy = project / "served" / architecture
    shutil.rmtree(copy, ignore_errors=True)
    store = f"sqlite:///{project}/mlflow.db"
    # A models:/ URI is resolved through the registry, which tracking_uri= does not set.
    mlflow.set_registry_uri(store)
    mlflow.artifacts.download_artifacts(uri, dst_path=str(copy), tracking_uri=store)
    shutil.rmtree(copy / "code" / "gtzan_kedro")
    shutil.copytree(code, copy / "code" / "gtzan_kedro", ignore=shutil.ignore_patterns("*.pyc"))
    return str(copy)


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def model_server(
    project: Path, model_uri: str, log: Path, env: dict[str, str] | None = None
) -> Iterator[tuple[int, subprocess.Popen]]:
    """``mlflow models serve`` of ``model_uri`` on 127.0.0.1; yields its port and process."""
    port = free_port()
    environment = {
        **os.environ,
        "MLFLOW_TRACKING_URI": f"sqlite:///{project}/mlflow.db",
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "KEDRO_DISABLE_TELEMETRY": "true",
        "DO_NOT_TRACK": "1",
        **(env or {}),
    }
    command = [str(BIN / "mlflow"), "models", "serve", "-m", model_uri, "--env-manager", "local"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--timeout", "600"]
    with log.open("w") as output:
        process = subprocess.Popen(
            command,
            cwd=project,
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            _wait_until_ready(port, process, log)
            yield port, process
        finally:
            with suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            with suppress(subprocess.TimeoutExpired):
                process.wait(timeout=15)
            with suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _wait_until_ready(
    port: int, process: subprocess.Popen, log: Path, timeout: float = 300
) -> None:
    """Wait for ``/ping`` to answer; stop with the server's log if it dies or never answers."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"The server exited:\n{log.read_text()[-3000:]}")
        with suppress(OSError):
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/ping", timeout=2):
                return
        time.sleep(0.5)
    raise SystemExit(f"The server did not answer within {timeout} s:\n{log.read_text()[-3000:]}")


def tree_memory(root: int) -> tuple[int, int]:
    """Summed ``(rss, pss)`` in bytes of process ``root`` and all its descendants."""
    rss = pss = 0
    try:
        processes = [psutil.Process(root), *psutil.Process(root).children(recursive=True)]
    except psutil.Error:
        return 0, 0
    for process in processes:
        with suppress(psutil.Error):
            info = process.memory_full_info()
            rss, pss = rss + info.rss, pss + info.pss
    return rss, pss


class TreeMemory:
    """Samples a process tree's RSS and PSS every 50 ms; ``peak()`` since the last ``reset``."""

    def __init__(self, root: int) -> None:
        self._root = root
        self._peak = (0, 0)
        self._lock = threading.Lock()
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while not self._done.is_set():
            rss, pss = tree_memory(self._root)
            with self._lock:
                self._peak = (max(self._peak[0], rss), max(self._peak[1], pss))
            self._done.wait(0.05)

    def reset(self) -> None:
        """Start a new peak from now."""
        with self._lock:
            self._peak = tree_memory(self._root)

    def peak(self) -> tuple[float, float]:
        """Peak ``(rss, pss)`` in GB since the last reset."""
        with self._lock:
            return self._peak[0] / 1e9, self._peak[1] / 1e9

    def now(self) -> tuple[float, float]:
        """Current ``(rss, pss)`` in GB."""
        rss, pss = tree_memory(self._root)
        return rss / 1e9, pss / 1e9

    def stop(self) -> None:
        """Stop sampling."""
        self._done.set()
        self._thread.join()


def wav_bytes(seconds: float, genre: str = "rock", seed: int = 7) -> bytes:
    """A 16-bit mono WAV at 22050 Hz of ``seconds``: a 30-s generated clip, repeated."""
    clip = synthesise_clip(
        genre, 900, seconds=min(seconds, 30.0), sample_rate=SAMPLE_RATE, seed=seed
    )
    samples = np.resize(clip, int(seconds * SAMPLE_RATE))
    buffer = io.BytesIO()
    sf.write(buffer, samples, SAMPLE_RATE, subtype="PCM_16", format="WAV")
    return buffer.getvalue()


def request_body(audio: bytes, name: str = "clip.wav") -> bytes:
    """The README's request: one record, the file's bytes base64-encoded."""
    record = {"name": name, "audio": base64.b64encode(audio).decode()}
    return json.dumps({"dataframe_records": [record]}).encode()


def post(port: int, body: bytes, timeout: float = 600) -> tuple[int, float, bytes]:
    """POST ``body`` to ``/invocations``; return the status, the seconds taken and the answer."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    started = time.perf_counter()
    try:
        connection.request(
            "POST", "/invocations", body=body, headers={"Content-Type": "application/json"}
        )
        response = connection.getresponse()
        answer = response.read()
        return response.status, time.perf_counter() - started, answer
    finally:
        connection.close()
