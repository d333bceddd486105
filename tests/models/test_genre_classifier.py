"""The one model artefact: what `predict` answers for a test track is what evaluation computed.

The session's trained project (`tiny_run`, tests/conftest.py: mlp on log_mel, svm on
mfcc_stats) was trained with feature parameters other than conf/base's; prediction then runs
with the default configuration, so the artefact's own feature parameters, statistics and
windows must be the ones used.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gtzan_kedro.models.genre_classifier import GenreClassifier
from gtzan_kedro.sources.gtzan_genres import GTZAN_GENRES as GENRES
from tests.conftest import PROJECT_ROOT, TINY_RUN_ARCHITECTURES, TinyRun, run_command

# Trained with conf/base's n_mels 64 and 128-frame windows replaced by 32 mel bands in
# 32-frame windows, and 20 MFCCs of 128-frame windows by 13 of 64 (TINY_RUN_FEATURES).
ARCHITECTURES = TINY_RUN_ARCHITECTURES


@pytest.fixture(scope="module")
def project(tiny_run: TinyRun) -> Path:
    """A project copy trained on tiny data with non-default feature parameters."""
    return tiny_run.project


def tracks_of(project: Path) -> pd.DataFrame:
    """The test split's tracks with the absolute path of their audio file."""
    splits = pd.read_parquet(project / "data" / "03_primary" / "track_splits.parquet")
    tests = splits[splits["split"] == "test"].copy()
    tests["file"] = [str(project / "data" / "01_raw" / path) for path in tests["path"]]
    return tests


def predict_in_session(project: Path, files: list[str], model: str, output: Path) -> pd.DataFrame:
    """`kedro run --pipeline inference` with the default configuration; the table it wrote.

    The files are copied into one folder beside ``output``, which the run classifies; the
    table's ``file`` column names the originals again. A `kedro run` process of its own: in
    this process kedro-mlflow's hook would reopen the run of the last tracked session, which
    may belong to another project copy's store.
    """
    folder = output.parent / "clips"
    folder.mkdir()
    originals = {}
    for file in files:
        originals[str(folder / Path(file).name)] = file
        shutil.copy(file, folder / Path(file).name)
    params = f"inference.files={folder},inference.model={model},inference.output={output}"
    result = run_command("kedro", "run", "--pipeline", "inference", "--params", params, cwd=project)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    table = pd.read_csv(output)
    table["file"] = table["file"].map(originals)
    return table


def evaluated(project: Path, architecture: str) -> pd.DataFrame:
    """The evaluation node's probabilities of each test track, by track id."""
    path = project / "data" / "07_model_output" / architecture / "track_predictions.parquet"
    return pd.read_parquet(path).set_index("track_id")


@pytest.mark.slow
@pytest.mark.parametrize("architecture", ARCHITECTURES)
def test_predict_gives_the_evaluated_probabilities_of_each_test_track(
    project: Path, architecture: str, tmp_path: Path
):
    tracks = tracks_of(project)

    table = predict_in_session(project, list(tracks["file"]), architecture, tmp_path / "p.csv")

    assert (table["status"] == "ok").all(), table["error"]
    assert (table["model"] == architecture).all()
    predicted = table.set_index(
        table["file"].map(dict(zip(tracks["file"], tracks["track_id"], strict=True)))
    )
    expected = evaluated(project, architecture)
    assert sorted(predicted.index) == sorted(expected.index) == sorted(tracks["track_id"])
    np.testing.assert_allclose(
        predicted.loc[expected.index, list(GENRES)].to_numpy(dtype=float),
        expected[list(GENRES)].to_numpy(dtype=float),
        atol=1e-5,
    )


@pytest.mark.slow
def test_the_artefact_keeps_the_feature_parameters_it_was_trained_with(project: Path):
    card = json.loads(
        (project / "data" / "06_models" / "mlp" / "genre_classifier.json").read_text()
    )
    svm = GenreClassifier.load(project / "data" / "06_models" / "svm")

    assert (card["feature_set"], card["feature_params"]["n_mels"]) == ("log_mel", 32)
    assert card["window"] == {"frames": 32, "hop": 16}
    assert len(card["normalisation"]["mean"]) == 32
    assert card["class_names"] == list(GENRES)
    assert (svm.feature_set, svm.feature_params["n_mfcc"], svm.window) == ("mfcc_stats", 13, None)
    # Prediction above ran with conf/base, whose feature parameters differ.
    defaults = (PROJECT_ROOT / "conf" / "base" / "parameters_feature_engineering.yml").read_text()
    shared = (PROJECT_ROOT / "conf" / "base" / "globals.yml").read_text()
    assert "n_mels: 64" in shared and "frames: 128" in defaults


@pytest.mark.slow
def test_predict_command_uses_the_champion_and_matches_its_evaluation(project: Path):
    tracks = tracks_of(project).iloc[:2]
    best = pd.read_csv(project / "data" / "08_reporting" / "architecture_comparison.csv")
    champion = best["architecture"].iloc[0]

    result = run_command(
        "gtzan-kedro", "predict", *tracks["file"], "--output", "answer.json", cwd=project
    )

    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    assert f"Model: {champion}" in result.stdout
    table = pd.read_json(project / "answer.json", orient="records").set_index("file")
    expected = evaluated(project, champion)
    for track in tracks.itertuples():
        np.testing.assert_allclose(
            table.loc[track.file, list(GENRES)].to_numpy(dtype=float),
            expected.loc[track.track_id, list(GENRES)].to_numpy(dtype=float),
            atol=1e-5,
        )


def test_a_damaged_model_card_is_one_clear_error(tmp_path: Path):
    (tmp_path / "genre_classifier.json").write_text(
        '{"normalisation": {"mean": [0.0], "std": [0.0]}}'
    )

    with pytest.raises(ValueError, match="is not a usable model card .*train the model again"):
        GenreClassifier.load(tmp_path)
