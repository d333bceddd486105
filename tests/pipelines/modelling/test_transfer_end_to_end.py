"""`kedro run --env transfer` on tiny data: the seed's architectures on musicnn sequences.

One project copy, real Kedro sessions in the ``transfer`` environment: two of its blocks
(a recurrent model and the cnn over patches) on the ``musicnn_sequence`` feature set by their
parameters blocks alone, next to from-scratch ones, all trained with the training options on
(augmentation with random crops, label smoothing, cosine schedule, weight decay; the recurrent
pooling head). Every block of conf/transfer builds, trains and reloads on examples of that
shape in test_architectures.py.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project

from gtzan_kedro.models.genre_classifier import GenreClassifier
from gtzan_kedro.musicnn import network as musicnn
from tests.conftest import PROJECT_ROOT, copy_project
from tests.pipelines.modelling.conftest import (
    TINY_FEATURES,
    TRANSFER_BLOCKS,
    TRANSFER_PARAMETERS,
    _merge,
)

SCRATCH = ("svm", "gru")
# The session trains these two of conf/transfer's blocks: each kind of input layer.
SESSION_BLOCKS = ("gru_musicnn", "cnn_musicnn")
OPTIONS = {
    "modelling": {
        "training": {
            "epochs": 2,
            "batch_size": 16,
            "label_smoothing": 0.1,
            "schedule": "cosine",
            "weight_decay": 0.01,
            "augmentation": {
                "time_masks": 1,
                "max_time_mask": 0.2,
                "frequency_masks": 1,
                "max_frequency_mask": 0.2,
                "mixup_alpha": 0.2,
                "random_crop": True,
            },
        },
        "architectures": {"gru": {"model": {"pooling": "mean_max", "normalise": True}}},
    }
}


def run(project: Path, pipelines: list[str], params: dict[str, Any]) -> None:
    """One ``kedro run --env transfer --pipelines ... --params ...`` of the copy, in-process."""
    bootstrap_project(project)
    with KedroSession.create(project_path=project, env="transfer", runtime_params=params) as s:
        s.run(pipeline_names=pipelines)


@pytest.fixture(scope="module")
def transfer_project(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    """The copy after ingestion, features and modelling, and how many clips musicnn embedded."""
    project = copy_project(PROJECT_ROOT, tmp_path_factory.mktemp("transfer"), SCRATCH)
    transfer = {
        "modelling": {"architectures": {name: TRANSFER_BLOCKS[name] for name in SESSION_BLOCKS}}
    }
    (project / TRANSFER_PARAMETERS).write_text(yaml.safe_dump(transfer, sort_keys=False))
    wheels = project / "data" / "01_raw" / "pretrained"
    wheels.mkdir(parents=True, exist_ok=True)
    for wheel in (PROJECT_ROOT / "data" / "01_raw" / "pretrained").glob("*.whl"):
        shutil.copy(wheel, wheels / wheel.name)
    embedded = []
    with pytest.MonkeyPatch.context() as patch:
        original = musicnn.embed
        patch.setattr(musicnn, "embed", lambda *args: embedded.append(1) or original(*args))
        run(
            project,
            ["ingestion", "feature_engineering", "modelling", "reporting"],
            _merge(TINY_FEATURES, OPTIONS),
        )
    return project, len(embedded)


@pytest.mark.slow
def test_blocks_of_the_transfer_environment_train_on_musicnn_sequences(
    transfer_project: tuple[Path, int],
):
    project, embedded = transfer_project
    evaluated = {
        path.parent.name for path in (project / "data" / "08_reporting").glob("*/metrics.json")
    }
    tracks = pd.read_parquet(project / "data" / "03_primary" / "track_splits.parquet")

    assert evaluated == {*SCRATCH, *SESSION_BLOCKS}
    # conf/transfer declares every seed architecture on musicnn_sequence.
    assert {TRANSFER_BLOCKS[name]["builder"] for name in TRANSFER_BLOCKS} == {
        "recurrent",
        "tcn",
        "mlp",
        "cnn",
    }
    for name in SESSION_BLOCKS:
        classifier = GenreClassifier.load(project / "data" / "06_models" / name)
        assert classifier.feature_set == "musicnn_sequence"
        assert classifier.window == {"frames": 3, "hop": 1}
        assert tuple(classifier.model.input_shape) == (None, 3, 1506)
    # The cnn's kernels slide over the patches and span every dimension of the embedding.
    cnn = GenreClassifier.load(project / "data" / "06_models" / "cnn_musicnn").model
    assert tuple(cnn.get_layer("conv0").kernel.shape)[:2] == (3, 1506)
    # musicnn_sequence reads musicnn's cache: the network ran once per track, into one folder,
    # plus the same number of times for each logged model (its input example and the served
    # model's warm-up are clips run through it).
    assert embedded > len(tracks)
    assert (embedded - len(tracks)) % len(SESSION_BLOCKS) == 0
    assert len(list((project / "data" / "04_feature" / "musicnn").glob("*.npy"))) == len(tracks)
    assert not (project / "data" / "04_feature" / "musicnn_sequence").exists()


@pytest.mark.slow
def test_models_trained_with_augmentation_predict_without_it(
    transfer_project: tuple[Path, int],
):
    project, _ = transfer_project
    for name in ("gru", "gru_musicnn"):
        classifier = GenreClassifier.load(project / "data" / "06_models" / name)
        evaluated = pd.read_parquet(
            project / "data" / "07_model_output" / name / "track_predictions.parquet"
        )
        feature_set = "log_mel" if classifier.feature_set == "log_mel" else "musicnn"
        for row in evaluated.head(3).itertuples():
            features = np.load(
                project / "data" / "04_feature" / feature_set / f"{row.track_id}.npy"
            )
            first = classifier.predict_proba_features(features)[0]
            again = classifier.predict_proba_features(features)[0]

            np.testing.assert_array_equal(first, again)
            np.testing.assert_allclose(
                first, evaluated.loc[row.Index, classifier.class_names], rtol=1e-5, atol=1e-6
            )
