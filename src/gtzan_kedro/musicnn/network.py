"""musicnn (Pons & Serra, 2019) as a Keras 3 model, its weights converted from the TF1 checkpoint.

The network, as in musicnn 0.1.0's ``models.build_musicnn``: a batch-normalised mel patch
``(187 frames, 96 bands)``; a timbral front end (convolutions 7x38 and 7x67 over the bands,
204 filters each) and a temporal one (128, 64 and 32 frames, 51 filters each), each
max-pooled over the bands and concatenated to 561 channels; a mid-end of three 1-D
convolutions (64 filters, kernel 7) with residual connections, concatenated with the front
end to 753 channels; a back end of max and mean pooling over time, batch norm, ``dense``
(200 units, batch-normalised: the "penultimate" features) and ``dense_1`` (50 tag logits,
sigmoid: the "taggram"). Batch norm uses TensorFlow 1's epsilon, 0.001.

The preprocessing is musicnn's, in one function for training, prediction and serving.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import tempfile
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import librosa
import numpy as np

from gtzan_kedro.errors import InputError
from gtzan_kedro.frames import centred_frames
from gtzan_kedro.keras_loader import load_keras as _keras
from gtzan_kedro.musicnn.wheel import (
    DEFAULT_WHEEL_CACHE,
    FETCH_COMMAND,
    MUSICNN_WHEEL,
    fetch_wheel,
    licence_text,
    read_member,
)

logger = logging.getLogger(__name__)

SAMPLE_RATE = 16000
N_FFT = 512
HOP_LENGTH = 256
N_MELS = 96
# librosa.time_to_frames(3 s) + 1, as musicnn's extractor computes its input length.
PATCH_FRAMES = 187
N_TAGS = 50
BATCH_NORM_EPSILON = 1e-3  # TensorFlow 1's default, which the checkpoint was trained with
MODELS = ("MSD_musicnn", "MTT_musicnn")
LAYERS = ("max_pool", "mean_pool", "penultimate", "taggram")
LAYER_DIMS = {"max_pool": 753, "mean_pool": 753, "penultimate": 200, "taggram": N_TAGS}
# The mid-end's output per frame (753 channels), before the back end pools it over time.
FRAME_LAYER = "midend"
LICENCE_FILE = "musicnn-LICENSE.md"
# Patches through the network per call: bounds the activations' memory, whatever the clip.
EMBED_BATCH = 8
DEFAULT_WEIGHTS_DIR = Path("data/06_models/pretrained/musicnn")

# Keras layer -> variable scope of the TF1 checkpoint (tf.compat.v1.layers' creation order).
CHECKPOINT_SCOPES = {
    "input_norm": "batch_normalization",
    "timbral_74": "conv2d",
    "timbral_74_norm": "batch_normalization_1",
    "timbral_77": "conv2d_1",
    "timbral_77_norm": "batch_normalization_2",
    "temporal_128": "conv2d_2",
    "temporal_128_norm": "batch_normalization_3",
    "temporal_64": "conv2d_3",
    "temporal_64_norm": "batch_normalization_4",
    "temporal_32": "conv2d_4",
    "temporal_32_norm": "batch_normalization_5",
    "midend_1": "conv2d_5",
    "midend_1_norm": "batch_normalization_6",
    "midend_2": "conv2d_6",
    "midend_2_norm": "batch_normalization_7",
    "midend_3": "conv2d_7",
    "midend_3_norm": "batch_normalization_8",
    "pooled_norm": "batch_normalization_9",
    "dense": "dense",
    "penultimate": "batch_normalization_10",
    "dense_1": "dense_1",
}
BATCH_NORM_VARIABLES = ("gamma", "beta", "moving_mean", "moving_variance")


# ---------------------------------------------------------------- preprocessing


def mel_frames(waveform: np.ndarray, sample_rate: int) -> np.ndarray:
    """musicnn's input: ``(frames, 96)`` float32 ``log10(10000 * mel + 1)`` of the 16 kHz signal."""
    audio = np.asarray(waveform, dtype=np.float32)
    if sample_rate != SAMPLE_RATE:
        audio = librosa.resample(audio, orig_sr=sample_rate, target_sr=SAMPLE_RATE)

    def mel_power(segment: np.ndarray, center: bool) -> np.ndarray:
        return librosa.feature.melspectrogram(
            y=segment,
            sr=SAMPLE_RATE,
            n_fft=N_FFT,
            hop_length=HOP_LENGTH,
            n_mels=N_MELS,
            center=center,
            pad_mode="reflect",
        ).T.astype(np.float32)

    # musicnn's librosa (< 0.10) padded the edge frames by reflection; today's pads zeros.
    mel = centred_frames(audio, N_FFT, HOP_LENGTH, "reflect", mel_power)
    # musicnn 0.1.0 casts to float16 first, which overflows to inf on loud clips.
    return np.log10(np.float32(10000) * mel + np.float32(1)).astype(np.float32)


# ---------------------------------------------------------------- the network


def build_musicnn(n_tags: int = N_TAGS, name: str = "musicnn") -> Any:
    """The untrained musicnn, ``(187, 96)`` mel patches in, ``n_tags`` sigmoid tags out."""
    keras = _keras()
    layers = keras.layers

    def norm(name: str) -> Any:
        return layers.BatchNormalization(epsilon=BATCH_NORM_EPSILON, name=name)

    def band_pooled(x: Any, filters: int, kernel: tuple[int, int], name: str, padding: str) -> Any:
        """Convolution, ReLU, batch norm, then the maximum over what is left of the bands."""
        x = layers.Conv2D(filters, kernel, padding=padding, activation="relu", name=name)(x)
        x = norm(f"{name}_norm")(x)
        x = layers.MaxPooling2D((1, x.shape[2]), name=f"{name}_pool")(x)
        return layers.Reshape((PATCH_FRAMES, filters), name=f"{name}_frames")(x)

    inputs = keras.Input(shape=(PATCH_FRAMES, N_MELS), name="mel_patch")
    image = norm("input_norm")(layers.Reshape((PATCH_FRAMES, N_MELS, 1), name="image")(inputs))
    # Time-only zero padding: a 'same' convolution the bands are pooled out of afterwards.
    padded = layers.ZeroPadding2D(((3, 3), (0, 0)), name="time_padding")(image)
    front = [
        band_pooled(padded, 204, (7, int(0.4 * N_MELS)), "timbral_74", "valid"),
        band_pooled(padded, 204, (7, int(0.7 * N_MELS)), "timbral_77", "valid"),
        *(band_pooled(image, 51, (size, 1), f"temporal_{size}", "same") for size in (128, 64, 32)),
    ]
    frontend = layers.Concatenate(name="frontend")(front)

    def midend(x: Any, index: int) -> Any:
        x = layers.Conv1D(64, 7, padding="same", activation="relu", name=f"midend_{index}")(x)
        return norm(f"midend_{index}_norm")(x)

    cnn1 = midend(frontend, 1)
    cnn2 = layers.Add(name="midend_2_residual")([midend(cnn1, 2), cnn1])
    cnn3 = layers.Add(name="midend_3_residual")([midend(cnn2, 3), cnn2])
    features = layers.Concatenate(name="midend")([frontend, cnn1, cnn2, cnn3])

    max_pool = layers.GlobalMaxPooling1D(name="max_pool")(features)
    mean_pool = layers.GlobalAveragePooling1D(name="mean_pool")(features)
    # TF1 flattened (753, 2) [max, mean] pairs: the checkpoint's 1506 units interleave them.
    pooled = layers.Flatten(name="pooled")(
        layers.Concatenate(name="pool_pairs")(
            [layers.Reshape((-1, 1))(max_pool), layers.Reshape((-1, 1))(mean_pool)]
        )
    )
    x = layers.Dropout(0.5)(norm("pooled_norm")(pooled))
    x = layers.Dense(200, activation="relu", name="dense")(x)
    penultimate = norm("penultimate")(x)
    logits = layers.Dense(n_tags, name="dense_1")(layers.Dropout(0.5)(penultimate))
    taggram = layers.Activation("sigmoid", name="taggram")(logits)
    return keras.Model(inputs, taggram, name=name)


def convert_checkpoint(checkpoint_prefix: str | Path, target: Path) -> Path:
    """Write the TF1 checkpoint's weights as a Keras ``.weights.h5`` file, atomically."""
    import tensorflow as tf  # noqa: PLC0415

    reader = tf.train.load_checkpoint(str(checkpoint_prefix))
    shapes = reader.get_variable_to_shape_map()
    model = build_musicnn()
    for layer_name, scope in CHECKPOINT_SCOPES.items():
        layer = model.get_layer(layer_name)
        names = BATCH_NORM_VARIABLES if "batch_normalization" in scope else ("kernel", "bias")
        values = []
        for variable, expected in zip(names, layer.get_weights(), strict=True):
            key = f"{scope}/{variable}"
            if key not in shapes:
                raise InputError(f"Checkpoint '{checkpoint_prefix}' has no variable '{key}'.")
            # Conv2D kernels over all of a 1-channel input are Conv1D kernels: (7, c, 1, f).
            value = reader.get_tensor(key).reshape(expected.shape)
            values.append(value)
        layer.set_weights(values)
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{uuid.uuid4().hex}.weights.h5")
    try:
        model.save_weights(temporary)
        temporary.replace(target)
    finally:
        temporary.unlink(missing_ok=True)
    return target


def weights_file(weights_dir: str | Path, model: str) -> Path:
    """Where the converted weights of ``model`` live in ``weights_dir``."""
    if model not in MODELS:
        raise InputError(f"Unknown musicnn model '{model}': use one of {', '.join(MODELS)}.")
    return Path(weights_dir) / f"{model}.weights.h5"


def ensure_musicnn_weights(
    model: str = "MSD_musicnn",
    weights_dir: str | Path = DEFAULT_WEIGHTS_DIR,
    *,
    wheel_cache: str | Path = DEFAULT_WHEEL_CACHE,
    wheel: str | Path | None = None,
    index_url: str | None = None,
) -> Path:
    """The converted weights of ``model``: fetched and converted once, then found in place.

    The wheel's licence is written beside them, as its terms require.
    """
    target = weights_file(weights_dir, model)
    licence = target.with_name(LICENCE_FILE)
    if target.is_file() and licence.is_file():
        return target
    cached = fetch_wheel(Path(wheel_cache), spec=MUSICNN_WHEEL, wheel=wheel, index_url=index_url)
    with tempfile.TemporaryDirectory(prefix="musicnn-checkpoint-") as folder:
        prefix = Path(folder) / model
        for suffix in (".index", ".data-00000-of-00001"):
            prefix.with_name(f"{model}{suffix}").write_bytes(
                read_member(cached, f"musicnn/{model}/{suffix}")
            )
        convert_checkpoint(prefix, target)
    temporary = licence.with_name(f".{uuid.uuid4().hex}.tmp")
    temporary.write_text(licence_text(cached), encoding="utf-8")
    temporary.replace(licence)
    logger.info("Converted %s's weights into '%s'.", model, target)
    return target


# ---------------------------------------------------------------- inference

# Feature models built in this process, by weights content and layers (a few MB each).
FEATURE_MODELS_KEPT = 4
_FEATURE_MODELS: dict[tuple[str, tuple[str, ...]], Any] = {}


def _check_weights(weights: str | Path) -> None:
    """A clear error if there are no converted weights at ``weights``."""
    if not Path(weights).is_file():
        raise InputError(
            f"No converted musicnn weights at '{weights}': load the catalog dataset that "
            f"converts them or run `{FETCH_COMMAND} --weights-dir {Path(weights).parent}`."
        )


def pretrained_network(weights: str | Path) -> Any:
    """A new musicnn with the converted ``weights`` loaded (a clear error if there are none)."""
    _check_weights(weights)
    network = build_musicnn()
    network.load_weights(weights)
    return network


def feature_model(weights: str, layers: tuple[str, ...]) -> Any:
    """musicnn with ``weights`` loaded, outputting ``layers``; built once per process for
    each weights content: every model artefact carries its own copy of the same file, and
    logging a model loads it (MLflow's serving check), so keyed by path it was built anew."""
    unknown = [layer for layer in layers if layer not in (*LAYERS, FRAME_LAYER)]
    if unknown or not layers:
        raise InputError(
            f"musicnn layers {list(layers)} must be a non-empty list of {', '.join(LAYERS)}."
        )
    key = (_content_digest(weights), layers)
    if key not in _FEATURE_MODELS:
        network = pretrained_network(weights)
        outputs = [network.get_layer(layer).output for layer in layers]
        _FEATURE_MODELS[key] = _keras().Model(network.inputs, outputs, name="musicnn_features")
        while len(_FEATURE_MODELS) > FEATURE_MODELS_KEPT:
            del _FEATURE_MODELS[next(iter(_FEATURE_MODELS))]  # the oldest
    return _FEATURE_MODELS[key]


def _content_digest(weights: str) -> str:
    """The sha256 of the weights file, read once per file version (every track embeds)."""
    _check_weights(weights)
    status = Path(weights).stat()
    return _file_digest(weights, status.st_mtime_ns, status.st_size)


@functools.lru_cache(maxsize=64)
def _file_digest(path: str, modified_ns: int, size: int) -> str:
    """sha256 of a file; its time and size are in the cache key, so a changed file is read."""
    with Path(path).open("rb") as stream:
        return hashlib.file_digest(stream, "sha256").hexdigest()


def embed(mel_patches: np.ndarray, weights: str | Path, layers: Sequence[str]) -> np.ndarray:
    """``(patches, dims)`` float32: each patch's ``layers`` outputs, concatenated in order."""
    layers = tuple(layers)
    dims = sum(LAYER_DIMS.get(layer, 0) for layer in layers)
    model = feature_model(str(weights), layers)
    if len(mel_patches) == 0:
        return np.zeros((0, dims), dtype=np.float32)
    embeddings = np.empty((len(mel_patches), dims), dtype=np.float32)
    # A batch at a time: the front end's activations are ~25 MB per patch, so a 15-minute
    # clip's 300 patches at once would take gigabytes.
    for start in range(0, len(mel_patches), EMBED_BATCH):
        batch = np.asarray(mel_patches[start : start + EMBED_BATCH], dtype=np.float32)
        outputs = model.predict_on_batch(batch)
        if len(layers) == 1:
            outputs = [outputs]
        embeddings[start : start + len(batch)] = np.concatenate(
            [np.asarray(output) for output in outputs], axis=1
        )
    return embeddings


def embed_frames(mel_patches: np.ndarray, weights: str | Path) -> np.ndarray:
    """``(patches, 187, 753)`` float32: the mid-end's output for every frame of each patch."""
    if len(mel_patches) == 0:
        return np.zeros((0, PATCH_FRAMES, LAYER_DIMS["max_pool"]), dtype=np.float32)
    model = feature_model(str(weights), (FRAME_LAYER,))
    return np.asarray(
        model.predict_on_batch(np.asarray(mel_patches, dtype=np.float32)), dtype=np.float32
    )
