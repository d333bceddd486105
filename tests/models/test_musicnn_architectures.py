"""Each musicnn architecture builds, trains and predicts on tiny data (random musicnn weights)."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import pytest

from gtzan_kedro.errors import InputError
from gtzan_kedro.models.architectures import get_architecture
from gtzan_kedro.models.architectures import musicnn as musicnn_architectures
from gtzan_kedro.models.fine_tuning import FineTuningModel
from gtzan_kedro.models.frameworks import get_adapter
from gtzan_kedro.musicnn import network as musicnn

N_CLASSES = 3
TRAINING = {
    "epochs": 2,
    "batch_size": 4,
    "learning_rate": 1e-3,
    "early_stopping_patience": 5,
    "jit_compile": False,
}


@pytest.fixture(scope="module")
def weights_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Randomly initialised musicnn weights where converted ones would be."""
    folder = tmp_path_factory.mktemp("weights")
    musicnn.build_musicnn().save_weights(musicnn.weights_file(folder, "MSD_musicnn"))
    (folder / musicnn.LICENCE_FILE).write_text("ISC licence, as the converted weights carry it")
    return folder


def separable(shape: tuple[int, ...], per_class: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Examples scattered around one fixed random centre per class, and their labels."""
    # Centres in different directions, not one mean shifted along a line: a small network
    # separates them from its first epochs whatever the seed, so early stopping cannot keep
    # an undertrained epoch.
    centres = np.random.default_rng(42).normal(size=(N_CLASSES, *shape))
    labels = np.repeat(np.arange(N_CLASSES), per_class)
    examples = np.random.default_rng(seed).normal(size=(len(labels), *shape)) + centres[labels]
    return examples.astype(np.float32), labels


def train_and_predict(name: str, shape: tuple[int, ...], training: dict, **params) -> tuple:
    """Build ``name`` through the registry, fit it with its adapter, predict the train split."""
    entry = get_architecture(name)
    model = entry.builder(shape, N_CLASSES, **params)
    adapter = get_adapter(entry.framework)
    train, validation = separable(shape, 4, seed=0), separable(shape, 2, seed=1)
    model, history = adapter.fit(model, train, validation, training, seed=0)
    return model, adapter, history, adapter.predict_proba(model, train[0], N_CLASSES), train


# As conf/base/parameters_modelling.yml configures them on the musicnn embeddings.
@pytest.mark.parametrize(
    ("name", "params"), [("musicnn_probe", {}), ("mlp", {"units": [256], "dropout": 0.5})]
)
def test_embedding_heads_learn_separable_embeddings(name: str, params: dict) -> None:
    """The probe and the MLP fit (dims,) embeddings and give probabilities per example."""
    training = {**TRAINING, "epochs": 20}
    _, _, _, probabilities, (_, labels) = train_and_predict(name, (64,), training, **params)
    assert probabilities.shape == (len(labels), N_CLASSES)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)
    assert (probabilities.argmax(axis=1) == labels).mean() >= 0.9


def test_probe_hyperparameters_reach_the_classifier() -> None:
    """C and max_iter configure the logistic regression."""
    probe = musicnn_architectures.build_musicnn_probe((1506,), N_CLASSES, C=0.5, max_iter=50)
    assert probe.named_steps["probe"].get_params()["C"] == 0.5
    assert probe.named_steps["probe"].get_params()["max_iter"] == 50


def backbone_weights(model) -> list[np.ndarray]:
    """The pretrained part's weights, copied."""
    return [np.array(weight) for weight in model.get_layer("backbone").get_weights()]


def small_fine_tuning_model(head_epochs: int) -> FineTuningModel:
    """A FineTuningModel around a small frozen dense backbone, compiled."""
    inputs = keras.Input(shape=(8,))
    backbone = keras.Sequential([keras.layers.Dense(4, activation="relu")], name="backbone")
    backbone.trainable = False
    outputs = keras.layers.Dense(N_CLASSES, activation="softmax")(backbone(inputs, training=False))
    model = FineTuningModel(inputs, outputs, head_epochs=head_epochs, fine_tune_learning_rate=1e-4)
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="sparse_categorical_crossentropy")
    return model


@pytest.mark.parametrize(("head_epochs", "backbone_trained"), [(2, False), (1, True)])
def test_backbone_is_unfrozen_after_the_head_epochs(
    head_epochs: int, backbone_trained: bool
) -> None:
    """One fit trains the head alone for head_epochs, then everything at the low rate."""
    model = small_fine_tuning_model(head_epochs)
    initial = backbone_weights(model)
    model.fit(*separable((8,), 4, seed=0), epochs=2, batch_size=4, verbose=0)
    changed = [
        not np.array_equal(before, after)
        for before, after in zip(initial, backbone_weights(model), strict=True)
    ]
    assert all(changed) if backbone_trained else not any(changed)
    expected_rate = 1e-4 if backbone_trained else 1e-2
    assert float(model.optimizer.learning_rate) == pytest.approx(expected_rate)


def test_finetune_builds_trains_predicts_and_reloads(weights_dir: Path, tmp_path: Path) -> None:
    """musicnn with a new head trains through the Keras adapter and predicts after reloading."""
    shape = (musicnn.PATCH_FRAMES, musicnn.N_MELS)
    model = musicnn_architectures.build_musicnn_finetune(
        shape, N_CLASSES, weights_dir=str(weights_dir), head_epochs=1
    )
    pretrained = musicnn.pretrained_network(musicnn.weights_file(weights_dir, "MSD_musicnn"))
    for mine, theirs in zip(
        backbone_weights(model),
        pretrained.get_weights()[: len(backbone_weights(model))],
        strict=True,
    ):
        np.testing.assert_array_equal(mine, theirs)
    adapter = get_adapter(get_architecture("musicnn_finetune").framework)
    train = separable(shape, 2, seed=0)
    model, history = adapter.fit(model, train, train, {**TRAINING, "epochs": 1}, seed=0)
    assert len(history["loss"]) == 1
    probabilities = adapter.predict_proba(model, train[0], N_CLASSES)
    assert probabilities.shape == (len(train[1]), N_CLASSES)

    adapter.save(model, tmp_path)
    reloaded = adapter.predict_proba(adapter.load(tmp_path), train[0], N_CLASSES)
    np.testing.assert_allclose(reloaded, probabilities, atol=1e-5)


def test_finetune_refuses_windows_of_another_length(weights_dir: Path) -> None:
    """Windows must be musicnn's 187 frames of 96 bands."""
    with pytest.raises(InputError, match="187"):
        musicnn_architectures.build_musicnn_finetune(
            (100, 96), N_CLASSES, weights_dir=str(weights_dir)
        )
