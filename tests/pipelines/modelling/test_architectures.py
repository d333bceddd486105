"""Every registered architecture builds, trains, predicts and round-trips as the model artefact."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from kedro.io import AbstractDataset

from gtzan_kedro.models.architectures import ARCHITECTURES
from gtzan_kedro.models.frameworks import get_adapter
from gtzan_kedro.models.genre_classifier import GenreClassifier
from gtzan_kedro.pipelines.modelling.nodes import build_model, package_classifier, train_model
from gtzan_kedro.sources.gtzan_genres import GTZAN_GENRES as GENRES
from tests.pipelines.modelling.conftest import (
    GTZAN_LABEL_SET,
    GTZAN_MODEL_INPUT,
    N_MELS,
    TINY_TRAINING,
    TRANSFER_BLOCKS,
)


def catalog_classifier_dataset(project_config: Any, namespace: str, data: Path) -> AbstractDataset:
    """The dataset of the catalog's ``{namespace}.genre_classifier`` factory, rooted in ``data``."""
    entry = dict(project_config["catalog"]["{namespace}.genre_classifier"])
    entry.pop("metadata", None)
    entry["path"] = str(data / entry["path"].replace("{namespace}", namespace))
    return AbstractDataset.from_config(f"{namespace}.genre_classifier", entry)


def examples_for(builder: str, split: dict[str, np.ndarray]) -> np.ndarray:
    """Windows for the sequence models; per-window statistics vectors for the svm."""
    if builder == "svm":
        return np.concatenate([split["examples"].mean(axis=1), split["examples"].std(axis=1)], 1)
    return split["examples"]


# The from-scratch blocks of conf/base (the musicnn builders need pretrained weights:
# tests/models/test_musicnn_architectures.py), the recurrent builder's other head, the
# cnn over frames only, and conf/transfer's seed architectures on musicnn_sequence (in a
# real `--env transfer` session: test_transfer_end_to_end.py).
SCRATCH_BLOCKS = ("lstm", "gru", "bilstm", "bigru", "tcn", "mlp", "cnn", "svm")
EXTRA_BLOCKS = {
    "bigru_last_state": {
        "builder": "recurrent",
        "features": "log_mel",
        "model": {"cell": "gru", "bidirectional": True, "pooling": "last", "normalise": True},
    },
    "cnn_over_frames": {
        "builder": "cnn",
        "features": "log_mel",
        "model": {"filters": [8, 16], "dropout": 0.3, "convolve_over": "frames"},
    },
}


@pytest.mark.slow  # 19 models, about 100 s in all: scheduled with the end-to-end files
@pytest.mark.parametrize("name", [*SCRATCH_BLOCKS, *EXTRA_BLOCKS, *TRANSFER_BLOCKS])
def test_architecture_trains_predicts_and_reloads(
    name: str, request: pytest.FixtureRequest, parameters, project_config, tmp_path: Path
):
    block = (
        EXTRA_BLOCKS.get(name)
        or TRANSFER_BLOCKS.get(name)
        or parameters["modelling"]["architectures"][name]
    )
    builder = block["builder"]
    sequences = block["features"] == "musicnn_sequence"
    splits = request.getfixturevalue("sequence_splits" if sequences else "tiny_splits")
    train, validation, test = (splits[name] for name in ("train", "validation", "test"))
    framework = ARCHITECTURES[builder].framework

    model = build_model(
        examples_for(builder, train), GTZAN_MODEL_INPUT, GTZAN_LABEL_SET, block, seed=0
    )
    model, history = train_model(
        model,
        examples_for(builder, train),
        train["labels"],
        train["track_ids"],
        examples_for(builder, validation),
        validation["labels"],
        GTZAN_MODEL_INPUT,
        block,
        TINY_TRAINING,
        seed=0,
    )
    probabilities = get_adapter(framework).predict_proba(
        model, examples_for(builder, test), len(GENRES)
    )

    assert probabilities.shape == (len(test["labels"]), len(GENRES))
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)
    # Every framework reports the same scores per epoch; a one-step fit, that step's.
    assert set(history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert all(len(values) == 1 for values in history.values())
    if framework == "sklearn":
        validation_probabilities = get_adapter(framework).predict_proba(
            model, examples_for(builder, validation), len(GENRES)
        )
        expected = np.mean(validation_probabilities.argmax(axis=1) == validation["labels"])
        assert history["val_accuracy"] == [pytest.approx(expected)]

    if framework == "keras":  # the block's examples as they are, e.g. (3, 1506) per sequence
        assert tuple(model.input_shape[1:]) == test["examples"].shape[1:]
    dims = examples_for(builder, test).shape[-1]
    window = {"frames": test["examples"].shape[1], "hop": 4} if builder != "svm" else None
    feature_set = {"extractor": block["features"], "params": {"n_mels": N_MELS}, "window": window}
    normalisation = {
        **GTZAN_MODEL_INPUT,
        "mean": [0.0] * dims,
        "std": [1.0] * dims,
        "feature_set": feature_set,
        "sample_rate": 22050,
    }
    classifier = package_classifier(model, normalisation, block, name)
    dataset = catalog_classifier_dataset(project_config, name, tmp_path)
    dataset.save(classifier)
    reloaded = dataset.load()

    assert isinstance(reloaded, GenreClassifier)
    assert reloaded.card() == classifier.card()
    np.testing.assert_allclose(
        get_adapter(framework).predict_proba(
            reloaded.model, examples_for(builder, test), len(GENRES)
        ),
        probabilities,
        rtol=1e-5,
        atol=1e-6,
    )


@pytest.mark.parametrize(
    ("convolve_over", "kernel"), [("frames_and_dims", (3, 3, 1, 8)), ("frames", (3, 40, 8))]
)
def test_cnn_convolves_over_the_image_or_over_frames_with_their_dims_as_channels(
    convolve_over: str, kernel: tuple[int, ...]
):
    hyperparameters = {"filters": [8, 16], "convolve_over": convolve_over}
    block = {"builder": "cnn", "features": "log_mel", "model": hyperparameters}
    examples = np.zeros((4, 12, 40), dtype=np.float32)

    model = build_model(examples, GTZAN_MODEL_INPUT, GTZAN_LABEL_SET, block, seed=0)

    assert tuple(model.get_layer("conv0").kernel.shape) == kernel
    assert model.output_shape == (None, len(GENRES))
