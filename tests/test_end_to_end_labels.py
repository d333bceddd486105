"""A collection with labels of its own, end to end: three labels in, those three labels out.

One `kedro run` of every pipeline on a local folder `techno/ house/ ambient/` (plus a folder
left out by `ingestion.labels`), then `gtzan-kedro predict` and `mlflow models serve` on the
champion: every table, figure, model and answer names those three labels and no other.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
import soundfile as sf
import yaml
from mlflow.tracking import MlflowClient

from gtzan_kedro.sources.generator import synthesise_clip
from gtzan_kedro.sources.gtzan_genres import GTZAN_GENRES
from tests.commands.conftest import BIN, background, free_port, run_command, wait_for_http
from tests.conftest import PROJECT_ROOT, SAMPLE_RATE, copy_project
from tests.pipelines.inference.test_end_to_end import post, request_body

ARCHITECTURES = ("mlp", "svm")
# Each label sounds like one of the generator's styles; the order is the one asked for.
LABELS = {"techno": "metal", "house": "disco", "ambient": "classical"}
CLIPS_PER_LABEL = 6
SETTINGS = {
    "ingestion": {"source": "local", "labels": list(LABELS)},
    "feature_engineering": {
        "split": {"validation_size": 0.2, "test_size": 0.2},
        "feature_sets": {"log_mel": {"window": {"frames": 32, "hop": 16}}},
        "executor": {"n_jobs": 1},
    },
    "modelling": {"training": {"epochs": 2, "batch_size": 16}},
}


def write_collection(folder: Path) -> Path:
    """Three label folders of 3-s clips, and a folder the label list leaves out."""
    for label, style in LABELS.items():
        (folder / label).mkdir(parents=True)
        for index in range(CLIPS_PER_LABEL):
            samples = synthesise_clip(style, index, seconds=3.0, sample_rate=SAMPLE_RATE, seed=7)
            sf.write(folder / label / f"{label}-{index}.wav", samples, SAMPLE_RATE)
    (folder / "unsorted").mkdir()
    samples = synthesise_clip("jazz", 0, seconds=3.0, sample_rate=SAMPLE_RATE, seed=7)
    sf.write(folder / "unsorted" / "mystery.wav", samples, SAMPLE_RATE)
    return folder


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project copy after one `kedro run` on the three-label collection."""
    root = tmp_path_factory.mktemp("labels")
    project = copy_project(PROJECT_ROOT, root, architectures=ARCHITECTURES)
    settings = {**SETTINGS, "ingestion": {**SETTINGS["ingestion"]}}
    settings["ingestion"]["local_path"] = str(write_collection(root / "my_music"))
    (project / "conf" / "local" / "parameters.yml").write_text(yaml.safe_dump(settings))
    result = run_command("kedro", "run", cwd=project, timeout=600)
    assert result.returncode == 0, (result.stdout + result.stderr)[-5000:]
    return project


@pytest.fixture(scope="module")
def unseen(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One clip per label the model never heard."""
    folder = tmp_path_factory.mktemp("unseen")
    for label, style in LABELS.items():
        samples = synthesise_clip(style, 40, seconds=4.0, sample_rate=SAMPLE_RATE, seed=7)
        sf.write(folder / f"{label}.wav", samples, SAMPLE_RATE)
    return folder


def only_the_three(columns) -> bool:
    """Whether ``columns`` hold the three labels and no GTZAN genre."""
    return set(LABELS) <= set(columns) and not set(GTZAN_GENRES) & set(columns)


@pytest.mark.slow
def test_ingestion_records_the_three_labels_and_lists_the_other_folder(project: Path):
    data = project / "data"
    label_set = json.loads((data / "02_intermediate" / "label_set.json").read_text())
    table = pd.read_parquet(data / "02_intermediate" / "track_table.parquet")
    distribution = pd.read_csv(data / "08_reporting" / "class_distribution.csv")
    examples = data / "08_reporting" / "genre_examples"

    assert (label_set["labels"], label_set["source"]) == (list(LABELS), "local")
    usable = table[table["status"] == "ok"]
    assert len(usable) == 3 * CLIPS_PER_LABEL
    assert dict(zip(usable["genre"], usable["label"], strict=True)) == {
        "techno": 0,
        "house": 1,
        "ambient": 2,
    }
    mystery = table.set_index("track_id").loc["mystery"]
    assert (mystery["status"], mystery["label"]) == ("unknown_genre", -1)
    assert list(distribution["genre"]) == list(LABELS)
    assert (distribution["tracks"] == CLIPS_PER_LABEL).all()
    assert sorted(path.name for path in examples.iterdir()) == sorted(LABELS)


@pytest.mark.slow
def test_every_architecture_is_trained_and_evaluated_on_the_three_labels(project: Path):
    data = project / "data"
    for architecture in ARCHITECTURES:
        report = pd.read_csv(data / "08_reporting" / architecture / "classification_report.csv")
        predictions = pd.read_parquet(
            data / "07_model_output" / architecture / "track_predictions.parquet"
        )
        card = json.loads((data / "06_models" / architecture / "genre_classifier.json").read_text())

        assert list(report["genre"].iloc[:3]) == list(LABELS)
        assert only_the_three(report["genre"])
        assert list(predictions.columns[3:]) == list(LABELS)
        assert set(predictions["predicted"]) <= {0, 1, 2}
        assert card["class_names"] == list(LABELS)
        assert (data / "08_reporting" / architecture / "confusion_matrix.png").stat().st_size
    for feature_set in ("log_mel", "mfcc_stats"):
        normalisation = json.loads(
            (data / "05_model_input" / feature_set / "normalisation.json").read_text()
        )
        assert normalisation["labels"] == list(LABELS)
    comparison = pd.read_csv(data / "08_reporting" / "architecture_comparison.csv")
    assert sorted(comparison["architecture"]) == sorted(ARCHITECTURES)


@pytest.mark.slow
def test_the_champion_is_registered_with_its_labels(project: Path):
    client = MlflowClient(tracking_uri=f"sqlite:///{project}/mlflow.db")

    champion = client.get_model_version_by_alias("genre_classifier", "champion")

    assert champion.tags["labels"] == "techno, house, ambient"
    assert champion.tags["architecture"] in ARCHITECTURES


@pytest.mark.slow
def test_predict_lists_the_three_labels_only(project: Path, unseen: Path):
    result = run_command(
        "gtzan-kedro", "predict", str(unseen), "--top", "5", "--output", "labels.json", cwd=project
    )
    table = pd.read_json(project / "labels.json", orient="records")

    assert result.returncode == 0, result.stderr
    assert (table["status"] == "ok").all() and len(table) == 3
    assert only_the_three(table.columns)
    # --top 5 of three labels lists the three.
    assert "genre_3" in table and "genre_4" not in table
    assert set(table[["genre_1", "genre_2", "genre_3"]].to_numpy().ravel()) == set(LABELS)
    assert table[list(LABELS)].sum(axis=1).round(3).eq(1.0).all()


@pytest.fixture(scope="module")
def server(project: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`mlflow models serve` of the champion; its invocations URL."""
    port = free_port()
    log = tmp_path_factory.mktemp("serve") / "serve.log"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{project}/mlflow.db")
        patch.setenv("PATH", f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
        command = ["mlflow", "models", "serve", "-m", "models:/genre_classifier@champion"]
        options = ["--env-manager", "local", "--host", "127.0.0.1", "--port", str(port)]
        with background(*command, *options, cwd=project, log=log) as process:
            wait_for_http(f"http://127.0.0.1:{port}/ping", process, log)
            yield f"http://127.0.0.1:{port}/invocations"


@pytest.mark.slow
def test_the_served_champion_answers_with_the_three_labels(server: str, unseen: Path):
    status, answer = post(server, request_body(unseen / "house.wav"))

    assert status == 200
    (prediction,) = answer["predictions"]
    assert prediction["status"] == "ok"
    assert only_the_three(prediction)
    assert prediction["genre_1"] in LABELS
