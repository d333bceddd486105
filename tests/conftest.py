"""Shared fixtures: tiny real WAV clips in GTZAN's layout, throw-away project copies, and one
tiny trained project (`tiny_run`) that every test of a trained project reads."""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import absl.logging
import mlflow
import numpy as np
import pandas as pd
import pytest
import soundfile as sf
import yaml

from gtzan_kedro.features.executor import ONE_THREAD_ENV
from gtzan_kedro.labels import make_label_set
from gtzan_kedro.sources.gtzan_genres import GTZAN_GENRES

# Kedro telemetry would try the network: tests never send anything.
os.environ["KEDRO_DISABLE_TELEMETRY"] = "true"
os.environ["DO_NOT_TRACK"] = "1"
# Two workers share the cores, each starting processes of its own: native thread pools of one
# thread, as in the feature workers. With TensorFlow's default pools (a thread per core in every
# process) their threads contended for the cores and the suite took a tenth longer.
for variable, value in ONE_THREAD_ENV.items():
    os.environ.setdefault(variable, value)

# TensorFlow's absl handler keeps the stream that was sys.stderr when it was created (pytest's
# capture), and Kedro's logging set-up closes every existing handler with its stream: pointed
# at the real stderr, which absl never closes, the capture survives Kedro's set-up.
absl.logging.get_absl_handler().python_handler.stream = sys.__stderr__

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SAMPLE_RATE = 22050
BIN = Path(sys.executable).parent  # the virtual environment's console scripts


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Order the files so that two workers finish together: end-to-end (``slow``) files first.

    ``make test`` hands whole files to its workers in this order (``--dist loadfile
    --no-loadscope-reorder``). The first file trains the shared project (``tiny_run``) while
    the other worker runs end-to-end files that do not need it; the files that read it
    follow, and the quick files fill in at the end.
    """
    slow = {item.path for item in items if item.get_closest_marker("slow")}
    shared = {item.path for item in items if "tiny_run" in item.fixturenames}
    trainer = next((item.path for item in items if item.path in slow & shared), None)
    items.sort(key=lambda item: (item.path != trainer, item.path not in slow, item.path in shared))


@pytest.fixture(autouse=True)
def no_mlflow_run_left_active():
    """End any MLflow run a test's in-process Kedro session left active.

    kedro-mlflow's hook is one object per process: a session whose pipeline has tracking
    disabled (``inference``) reopens the previous session's run and never closes it. In a
    `kedro run` process that cannot happen (one session); in the test process it would make
    every later session log into that old run.
    """
    yield
    while mlflow.active_run():
        mlflow.end_run()


def labels_of(table: pd.DataFrame) -> dict:
    """The label set of a track table of GTZAN genres: those it holds, in GTZAN's order."""
    present = set(table["genre"])
    return make_label_set([genre for genre in GTZAN_GENRES if genre in present], "generated")


def tone(frequency: float, seconds: float, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """Return a quiet sine tone as float32 samples."""
    time = np.arange(int(seconds * sample_rate)) / sample_rate
    return (0.3 * np.sin(2 * np.pi * frequency * time)).astype(np.float32)


@pytest.fixture
def write_clip() -> Callable[..., Path]:
    """Write a real audio file (any format soundfile knows) and return its path."""

    def write(
        path: Path,
        samples: np.ndarray,
        sample_rate: int = SAMPLE_RATE,
        audio_format: str | None = None,
    ) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        sf.write(path, samples, sample_rate, subtype="PCM_16", format=audio_format)
        return path

    return write


@pytest.fixture
def raw_folder(tmp_path: Path, write_clip: Callable[..., Path]) -> Path:
    """A raw layer with 2 s clips of three genres under ``generated/`` (GTZAN layout)."""
    root = tmp_path / "01_raw"
    for label, genre in enumerate(["blues", "classical", "disco"]):
        for index in range(4):
            write_clip(
                root / "generated" / genre / f"{genre}.{index:05d}.wav",
                tone(220.0 * (label + 1) + 10 * index, seconds=2.0),
            )
    return root


# Architectures on pretrained musicnn embeddings: a tiny run spends most of its time computing
# them, so project copies leave them out unless a test asks for them by name.
PRETRAINED_ARCHITECTURES = ("musicnn_probe", "musicnn_mlp")


def copy_project(
    source: Path, destination: Path, architectures: tuple[str, ...] | None = None
) -> Path:
    """Copy the project's configuration into ``destination/project`` with empty data layers.

    ``architectures`` keeps only those blocks of ``modelling.architectures`` (default: all
    but the pretrained ones); models train without XLA.
    """
    project = destination / "project"
    project.mkdir()
    shutil.copytree(source / "conf", project / "conf", ignore=shutil.ignore_patterns("local"))
    (project / "conf" / "local").mkdir()
    for name in ("pyproject.toml", ".telemetry"):
        shutil.copy(source / name, project / name)
    # mlflow.yml is copied as is: `${project_root:}` is the copy, so each copy tracks into its
    # own MLflow store, never the developer's mlflow.db.
    modelling = project / "conf" / "base" / "parameters_modelling.yml"
    parameters = yaml.safe_load(modelling.read_text())
    blocks = parameters["modelling"]["architectures"]
    keep = architectures or [name for name in blocks if name not in PRETRAINED_ARCHITECTURES]
    parameters["modelling"]["architectures"] = {name: blocks[name] for name in keep}
    # Tests train for an epoch or a few: XLA's compilation would cost more than it saves.
    parameters["modelling"]["training"]["jit_compile"] = False
    modelling.write_text(yaml.safe_dump(parameters, sort_keys=False))
    # The package itself is installed; Kedro only checks that the source folder exists.
    (project / "src").mkdir()
    for layer in (source / "data").iterdir():
        if layer.is_dir():
            (project / "data" / layer.name).mkdir(parents=True)
    return project


def architectures_of(project: Path) -> list[str]:
    """The architecture blocks of a project's ``conf/base/parameters_modelling.yml``."""
    parameters = yaml.safe_load(
        (project / "conf" / "base" / "parameters_modelling.yml").read_text()
    )
    return list(parameters["modelling"]["architectures"])


@pytest.fixture
def project_copy(tmp_path: Path) -> Path:
    """A copy of the project's configuration with empty data layers, for real sessions."""
    return copy_project(PROJECT_ROOT, tmp_path)


@contextmanager
def deadline(seconds: int) -> Iterator[None]:
    """Fail the test, rather than hang it, if the block takes longer than ``seconds``."""

    def expire(*_: object) -> None:
        raise TimeoutError(f"Still running after {seconds} s: something blocked.")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


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


# The one trained project of the suite (`tiny_run`): 6 generated clips of 4 s per genre, the
# mlp (log_mel) and the svm (mfcc_stats) trained up to 10 epochs. Its feature parameters are
# not conf/base's (32 mel bands, 32-frame windows; 13 MFCCs of 64-frame windows), so whatever
# predicts with the default configuration must use the artefact's own.
TINY_RUN_ARCHITECTURES = ["mlp", "svm"]
TINY_RUN_EPOCHS = 10
TINY_RUN_FEATURES = ",".join(
    [
        "ingestion.generator.clips_per_genre=6",
        "ingestion.generator.clip_seconds=4.0",
        "feature_engineering.split.validation_size=0.2",
        "feature_engineering.split.test_size=0.2",
        "feature_engineering.feature_sets.log_mel.params.n_mels=32",
        "feature_engineering.feature_sets.log_mel.window.frames=32",
        "feature_engineering.feature_sets.log_mel.window.hop=16",
        "feature_engineering.feature_sets.mfcc_stats.params.n_mfcc=13",
        "feature_engineering.feature_sets.mfcc_stats.params.window_frames=64",
        "feature_engineering.feature_sets.mfcc_stats.params.window_hop=32",
        "feature_engineering.executor.n_jobs=1",
    ]
)
TINY_RUN_TRAINING = (
    f"modelling.training.epochs={TINY_RUN_EPOCHS},modelling.training.batch_size=16,"
    "modelling.training.early_stopping_patience=3"
)


@dataclass(frozen=True)
class TinyRun:
    """A project copy after `kedro run` of every pipeline, and what each run printed."""

    project: Path
    logs: dict[str, str]


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> TinyRun:
    """The project as after `make run`, on tiny settings: data, models, reports, MLflow store.

    Three `kedro run`s as typed (features, modelling, reporting), with `make run`'s runner,
    so its MLflow experiment holds exactly three runs. Trained once for the whole session,
    whatever the number of pytest-xdist workers, and shared: tests may add files of their own
    to it, but must not train, re-run a tracked pipeline or delete anything.
    """
    if worker_id == "master":  # one process: nothing to share
        return _train_tiny_run(tmp_path_factory.mktemp("tiny_run"))
    # The workers' temporary folders share this parent; the first worker to take the lock
    # trains, the others wait for it and read what it wrote.
    shared = tmp_path_factory.getbasetemp().parent
    folder, logs = shared / "tiny_run", shared / "tiny_run.json"
    with (shared / "tiny_run.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not logs.exists():
            shutil.rmtree(folder, ignore_errors=True)  # what a failed attempt left
            folder.mkdir()
            logs.write_text(json.dumps(_train_tiny_run(folder).logs))
    return TinyRun(project=folder / "project", logs=json.loads(logs.read_text()))


def _train_tiny_run(folder: Path) -> TinyRun:
    """Copy the project into ``folder`` and run its pipelines there on tiny settings."""
    # Its MLflow store is mlflow.db in the copy's root, where `mlflow ui` finds it.
    project = copy_project(PROJECT_ROOT, folder)
    runs = {
        "features": [
            "--pipelines",
            "ingestion,feature_engineering",
            "--params",
            TINY_RUN_FEATURES,
        ],
        "modelling": [
            "--pipeline",
            "modelling",
            "--namespaces",
            ",".join(TINY_RUN_ARCHITECTURES),
            "--params",
            f"{TINY_RUN_FEATURES},{TINY_RUN_TRAINING}",
        ],
        "reporting": ["--pipeline", "reporting", "--params", TINY_RUN_FEATURES],
    }
    logs = {}
    for name, options in runs.items():
        # A loaded machine (CI, shared runners) may take minutes over each of these runs.
        result = run_command(
            "kedro", "run", "--runner", "ThreadRunner", *options, cwd=project, timeout=1200
        )
        logs[name] = result.stdout + result.stderr
        assert result.returncode == 0, f"kedro run ({name}) failed:\n{logs[name][-5000:]}"
    return TinyRun(project=project, logs=logs)
