"""Real-GTZAN sources through a real KedroSession: a local Kaggle copy (run twice), a download."""

import hashlib
import io
import shutil
import zipfile
from pathlib import Path

import pandas as pd
import pytest
import soundfile as sf
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project

from tests.conftest import PROJECT_ROOT, SAMPLE_RATE, copy_project, tone
from tests.sources.gtzan_copies import gtzan_files, serving, write_tar

GENRES_USED = ("blues", "jazz", "rock")


def kaggle_zip(path: Path) -> Path:
    """A Kaggle-layout zip: four 1.5 s clips per genre, plus the unreadable jazz.00054.wav."""
    with zipfile.ZipFile(path, "w") as archive:
        for g, genre in enumerate(GENRES_USED):
            for index in range(4):
                buffer = io.BytesIO()
                sf.write(buffer, tone(200.0 * (g + 1) + 20 * index, 1.5), SAMPLE_RATE, format="WAV")
                name = f"Data/genres_original/{genre}/{genre}.{index:05d}.wav"
                archive.writestr(name, buffer.getvalue())
        archive.writestr("Data/genres_original/jazz/jazz.00054.wav", b"RIFF" + b"\x00" * 300)
    return path


def run(project: Path, local_path: Path, labels: list[str] | None = None) -> None:
    """Run ingestion and feature engineering on the local copy (its folders, or ``labels``)."""
    params = {
        "ingestion": {"source": "local", "local_path": str(local_path), "labels": labels},
        "feature_engineering": {
            "split": {"validation_size": 0.25, "test_size": 0.25},
            "feature_sets": {"log_mel": {"window": {"frames": 32, "hop": 16}}},
            "executor": {"n_jobs": 2},
        },
    }
    bootstrap_project(project)
    with KedroSession.create(project_path=project, runtime_params=params) as session:
        session.run(pipeline_names=["ingestion", "feature_engineering"])


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> tuple[Path, Path]:
    """A project copy after one run on a local Kaggle zip, and that zip."""
    root = tmp_path_factory.mktemp("sources")
    project = copy_project(PROJECT_ROOT, root)
    archive = kaggle_zip(root / "archive.zip")
    run(project, archive)
    return project, archive


@pytest.mark.slow
def test_local_copy_lands_in_the_gtzan_folder_with_the_fault_reported(project):
    project, _ = project
    raw = project / "data" / "01_raw" / "gtzan"
    table = pd.read_parquet(project / "data" / "02_intermediate" / "track_table.parquet")

    assert len(list(raw.glob("*/*.wav"))) == 13
    assert table.set_index("track_id").loc["jazz.00054", "status"] == "unreadable"
    splits = pd.read_parquet(project / "data" / "03_primary" / "track_splits.parquet")
    assert len(splits) == 12 and "jazz.00054" not in set(splits["track_id"])


@pytest.mark.slow
def test_second_run_reuses_every_log_mel(project):
    project, archive = project
    features = project / "data" / "04_feature" / "log_mel"
    before = {path.name: path.stat().st_mtime_ns for path in features.iterdir()}

    run(project, archive)

    assert {path.name: path.stat().st_mtime_ns for path in features.iterdir()} == before
    assert len(before) == 12 + 1  # twelve arrays and fingerprints.json


@pytest.mark.slow
def test_download_source_fetches_into_the_downloads_folder_and_fills_the_gtzan_folder(
    tmp_path: Path,
):
    project = copy_project(PROJECT_ROOT, tmp_path)
    files = gtzan_files("au", prefix="genres/")
    archive = write_tar(tmp_path / "served.tar.gz", files).read_bytes()
    download = {
        "mirrors": [],
        "checksum": f"sha256:{hashlib.sha256(archive).hexdigest()}",
        "timeout_s": 5,
    }
    bootstrap_project(project)

    with serving() as server:
        server.files["/genres.tar.gz"] = archive
        download["mirrors"] = [f"{server.url}/genres.tar.gz"]
        params = {"ingestion": {"source": "download", "download": download}}
        with KedroSession.create(project_path=project, runtime_params=params) as session:
            session.run(pipeline_names=["ingestion"], node_names=["acquire_clips"])

    raw = project / "data" / "01_raw"
    assert (raw / "downloads" / "genres.tar.gz").read_bytes() == archive
    for name, data in files.items():
        assert (raw / "gtzan" / name.removeprefix("genres/")).read_bytes() == data


@pytest.mark.slow
def test_folder_copy_with_stray_and_silent_clips_then_another_copy(tmp_path: Path):
    project = copy_project(PROJECT_ROOT, tmp_path)
    first = tmp_path / "first"
    for g, genre in enumerate(GENRES_USED):
        for index in range(4):
            path = first / genre / f"{genre}.{index:05d}.wav"
            path.parent.mkdir(parents=True, exist_ok=True)
            sf.write(path, tone(200.0 * (g + 1) + 20 * index, 1.5), SAMPLE_RATE)
    (first / "notagenre").mkdir()
    sf.write(first / "notagenre" / "stray.wav", tone(300.0, 1.5), SAMPLE_RATE)
    sf.write(first / "rock" / "rock.00009.wav", tone(300.0, 1.5) * 1e-4, SAMPLE_RATE)
    second = tmp_path / "second"
    shutil.copytree(first, second)
    (second / "blues" / "blues.00003.wav").unlink()

    # Only the genre folders are labels: the stray folder's clip is listed and left out.
    run(project, first, list(GENRES_USED))
    run(project, second, list(GENRES_USED))

    table = pd.read_parquet(project / "data" / "02_intermediate" / "track_table.parquet")
    status = dict(zip(table["track_id"], table["status"], strict=True))
    assert status["stray"] == "unknown_genre" and status["rock.00009"] == "silent"
    assert "blues.00003" not in status
    assert not (project / "data" / "01_raw" / "gtzan" / "blues" / "blues.00003.wav").exists()
    splits = pd.read_parquet(project / "data" / "03_primary" / "track_splits.parquet")
    assert set(splits["track_id"]) == {t for t, s in status.items() if s == "ok"}
    assert len(splits) == 11
