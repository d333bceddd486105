"""Converting a TF1 musicnn checkpoint made in the test, and the feature sets built on it."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

from gtzan_kedro.datasets.pretrained import MusicnnWeightsDataset
from gtzan_kedro.errors import InputError
from gtzan_kedro.features import musicnn as musicnn_features
from gtzan_kedro.features.registry import get_extractor
from gtzan_kedro.musicnn import network as musicnn

# The variables of musicnn 0.1.0's graph, as tf.compat.v1.layers named them, and their shapes.
CONVOLUTIONS = {
    "conv2d": [7, 38, 1, 204],
    "conv2d_1": [7, 67, 1, 204],
    "conv2d_2": [128, 1, 1, 51],
    "conv2d_3": [64, 1, 1, 51],
    "conv2d_4": [32, 1, 1, 51],
    "conv2d_5": [7, 561, 1, 64],
    "conv2d_6": [7, 64, 1, 64],
    "conv2d_7": [7, 64, 1, 64],
    "dense": [1506, 200],
    "dense_1": [200, 50],
}
BATCH_NORMS = [1, 204, 204, 51, 51, 51, 64, 64, 64, 1506, 200]


def checkpoint_values(seed: int = 0) -> dict[str, np.ndarray]:
    """Random values for every variable of the original checkpoint, Adam slots included."""
    rng = np.random.default_rng(seed)
    values = {}
    for scope, shape in CONVOLUTIONS.items():
        values[f"{scope}/kernel"] = rng.normal(size=shape)
        values[f"{scope}/bias"] = rng.normal(size=shape[-1])
    for index, size in enumerate(BATCH_NORMS):
        scope = "batch_normalization" + (f"_{index}" if index else "")
        for name in ("gamma", "beta", "moving_mean"):
            values[f"{scope}/{name}"] = rng.normal(size=size)
        values[f"{scope}/moving_variance"] = rng.uniform(0.5, 2, size=size)
    values["dense/kernel/Adam"] = rng.normal(size=CONVOLUTIONS["dense"])
    return {name: value.astype(np.float32) for name, value in values.items()}


def write_tf1_checkpoint(values: dict[str, np.ndarray], prefix: Path) -> Path:
    """Save ``values`` as TF1 variables under their names, as musicnn's Saver did."""
    graph = tf.Graph()
    with graph.as_default():
        variables = [tf.compat.v1.Variable(value, name=name) for name, value in values.items()]
        saver = tf.compat.v1.train.Saver(variables)
        with tf.compat.v1.Session(graph=graph) as session:
            session.run(tf.compat.v1.global_variables_initializer())
            saver.save(session, str(prefix), write_meta_graph=False, write_state=False)
    return prefix


def test_every_checkpoint_variable_lands_in_its_layer(tmp_path: Path) -> None:
    """Kernels (1-D ones reshaped), biases and batch-norm statistics go where they belong."""
    values = checkpoint_values()
    prefix = write_tf1_checkpoint(values, tmp_path / "original")
    target = musicnn.convert_checkpoint(prefix, tmp_path / "out" / "MSD_musicnn.weights.h5")
    model = musicnn.build_musicnn()
    model.load_weights(target)

    def weights(layer: str) -> list[np.ndarray]:
        return [np.asarray(value) for value in model.get_layer(layer).get_weights()]

    np.testing.assert_array_equal(weights("timbral_77")[0], values["conv2d_1/kernel"])
    np.testing.assert_array_equal(weights("temporal_32")[1], values["conv2d_4/bias"])
    np.testing.assert_array_equal(weights("midend_1")[0], values["conv2d_5/kernel"][:, :, 0, :])
    np.testing.assert_array_equal(weights("midend_3")[0], values["conv2d_7/kernel"][:, :, 0, :])
    np.testing.assert_array_equal(weights("dense_1")[0], values["dense_1/kernel"])
    pooled_norm = weights("pooled_norm")
    for index, name in enumerate(["gamma", "beta", "moving_mean", "moving_variance"]):
        np.testing.assert_array_equal(pooled_norm[index], values[f"batch_normalization_9/{name}"])
    np.testing.assert_array_equal(
        weights("penultimate")[3], values["batch_normalization_10/moving_variance"]
    )
    # Every model variable came from the checkpoint: counts agree, optimizer slots left out.
    model_size = sum(np.asarray(value).size for value in model.get_weights())
    checkpoint_size = sum(value.size for name, value in values.items() if "Adam" not in name)
    assert model_size == checkpoint_size


def test_checkpoint_without_a_variable_is_refused_by_name(tmp_path: Path) -> None:
    """A checkpoint that is not musicnn's names the variable it lacks; no file is written."""
    values = checkpoint_values()
    del values["dense_1/bias"]
    prefix = write_tf1_checkpoint(values, tmp_path / "original")
    with pytest.raises(InputError, match="no variable 'dense_1/bias'"):
        musicnn.convert_checkpoint(prefix, tmp_path / "MSD_musicnn.weights.h5")
    assert not (tmp_path / "MSD_musicnn.weights.h5").exists()


@pytest.fixture(scope="module")
def random_weights(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with randomly initialised, converted-format musicnn weights."""
    folder = tmp_path_factory.mktemp("weights")
    musicnn.build_musicnn().save_weights(musicnn.weights_file(folder, "MSD_musicnn"))
    return folder


def test_musicnn_feature_set_gives_one_row_per_three_second_patch(
    random_weights: Path, music_like_clip: np.ndarray
) -> None:
    """10 s give 3 patches and one flush with the end; layers are concatenated in order."""
    extractor = get_extractor("musicnn")
    weights = str(musicnn.weights_file(random_weights, "MSD_musicnn"))
    default = extractor(music_like_clip, 22050, weights=weights)
    assert default.shape == (4, 1506)
    assert default.dtype == np.float32
    tags_first = extractor(music_like_clip, 22050, weights=weights, layers=["taggram", "max_pool"])
    assert tags_first.shape == (4, 50 + 753)
    np.testing.assert_allclose(tags_first[:, 50:], default[:, :753], rtol=1e-5, atol=1e-6)
    assert ((tags_first[:, :50] > 0) & (tags_first[:, :50] < 1)).all()
    # A clip shorter than a patch is repeated to fill one, like every feature set's windows.
    short = extractor(music_like_clip[: 22050 * 2], 22050, weights=weights)
    assert short.shape == (1, 1506)


def test_musicnn_mel_is_musicnn_input_at_any_sample_rate(music_like_clip: np.ndarray) -> None:
    """16 kHz, hop 256: 10 s give 626 frames of 96 bands, log-compressed and finite."""
    frames = musicnn_features.musicnn_mel(music_like_clip, 22050)
    assert frames.shape == (626, 96)
    assert frames.dtype == np.float32
    assert np.isfinite(frames).all() and frames.min() >= 0
    loud = musicnn_features.musicnn_mel(music_like_clip * 100, 22050)
    assert np.isfinite(loud).all()
    # musicnn 0.1.0 cast the mel powers to float16 first: 10000 * mel overflows to inf here.
    mel = (10.0 ** loud.astype(np.float64) - 1) / 10000
    with np.errstate(over="ignore"):
        assert np.isinf(10000 * mel.astype(np.float16)).any()


def test_copies_of_the_same_weights_share_one_feature_model(random_weights: Path, tmp_path: Path):
    """Each model artefact carries its own copy of the weights: built once, not per copy."""
    original = musicnn.weights_file(random_weights, "MSD_musicnn")
    copy = tmp_path / "artefact" / original.name
    copy.parent.mkdir()
    shutil.copy(original, copy)
    other = tmp_path / "other" / original.name
    other.parent.mkdir()
    musicnn.build_musicnn().save_weights(other)  # another random initialisation
    layers = ("max_pool", "mean_pool")

    first = musicnn.feature_model(str(original), layers)

    assert musicnn.feature_model(str(copy), layers) is first
    assert musicnn.feature_model(str(other), layers) is not first
    with pytest.raises(InputError, match="No converted musicnn weights at"):
        musicnn.feature_model(str(tmp_path / "missing.weights.h5"), layers)


def test_unknown_model_or_layer_is_one_clear_error(random_weights: Path, music_like_clip) -> None:
    """The parameter and the known values are named."""
    with pytest.raises(InputError, match="Unknown musicnn model 'MSD_vgg'"):
        musicnn.weights_file(random_weights, "MSD_vgg")
    with pytest.raises(InputError, match="layers \\['pool5'\\]"):
        get_extractor("musicnn")(
            music_like_clip,
            22050,
            weights=str(musicnn.weights_file(random_weights, "MSD_musicnn")),
            layers=["pool5"],
        )


def test_weights_dataset_reuses_converted_weights_without_fetching(
    random_weights: Path, tmp_path: Path, monkeypatch
) -> None:
    """Converted weights and their licence in place: load returns them, no wheel is touched."""
    (random_weights / musicnn.LICENCE_FILE).write_text("ISC")

    def no_fetch(*args, **kwargs):
        raise AssertionError("fetched although the weights were converted")

    monkeypatch.setattr(musicnn, "fetch_wheel", no_fetch)
    dataset = MusicnnWeightsDataset(weights_dir=str(random_weights), wheel_cache=str(tmp_path))
    assert dataset.exists()
    assert dataset.load() == musicnn.weights_file(random_weights, "MSD_musicnn").resolve()
    assert not MusicnnWeightsDataset(weights_dir=str(tmp_path)).exists()
