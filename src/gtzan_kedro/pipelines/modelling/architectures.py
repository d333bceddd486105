"""Model builders, one per architecture, in a registry by name.

Every builder takes the shape of one input sequence ``(frames, n_mels)``, the number of
classes and its own hyperparameters (the ``model`` block of the architecture's parameters),
and returns an untrained model that maps ``(n, frames, n_mels)`` sequences to class
probabilities: a ``keras.Model`` ending in a softmax, or a scikit-learn classifier with
``predict_proba``. Registering a builder makes the modelling pipeline train it under a
namespace of the same name, configured by the parameters block of that name.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import keras
import librosa
import numpy as np
from keras import layers
from sklearn.calibration import CalibratedClassifierCV
from sklearn.pipeline import Pipeline as SklearnPipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler
from sklearn.svm import SVC

Builder = Callable[..., Any]

ARCHITECTURES: dict[str, Builder] = {}


def register(name: str) -> Callable[[Builder], Builder]:
    """Add the decorated builder to ``ARCHITECTURES`` under ``name``."""

    def decorator(builder: Builder) -> Builder:
        if name in ARCHITECTURES:
            raise ValueError(f"Architecture '{name}' is registered twice.")
        ARCHITECTURES[name] = builder
        return builder

    return decorator


def get_builder(name: str) -> Builder:
    """Return the builder registered as ``name``, or fail listing the known ones."""
    try:
        return ARCHITECTURES[name]
    except KeyError:
        known = ", ".join(sorted(ARCHITECTURES))
        raise ValueError(f"Unknown architecture '{name}'. Known architectures: {known}.") from None


def _classifier_head(features: Any, n_classes: int, dropout: float) -> Any:
    """Dropout then a softmax layer over the classes."""
    return layers.Dense(n_classes, activation="softmax", name="probabilities")(
        layers.Dropout(dropout)(features)
    )


def _recurrent(
    layer: type[layers.Layer],
    name: str,
    input_shape: tuple[int, int],
    n_classes: int,
    *,
    units: int,
    dropout: float,
    bidirectional: bool = False,
) -> keras.Model:
    """One recurrent layer (optionally bidirectional) whose last state feeds the classifier."""
    inputs = keras.Input(shape=input_shape, name="log_mel")
    recurrent = layer(units, name=layer.__name__.lower())
    if bidirectional:
        recurrent = layers.Bidirectional(recurrent, name="bidirectional")
    outputs = _classifier_head(recurrent(inputs), n_classes, dropout)
    return keras.Model(inputs, outputs, name=name)


@register("lstm")
def build_lstm(
    input_shape: tuple[int, int], n_classes: int, *, units: int = 64, dropout: float = 0.3
) -> keras.Model:
    """LSTM over the frames."""
    return _recurrent(layers.LSTM, "lstm", input_shape, n_classes, units=units, dropout=dropout)


@register("gru")
def build_gru(
    input_shape: tuple[int, int], n_classes: int, *, units: int = 64, dropout: float = 0.3
) -> keras.Model:
    """GRU over the frames."""
    return _recurrent(layers.GRU, "gru", input_shape, n_classes, units=units, dropout=dropout)


@register("bilstm")
def build_bilstm(
    input_shape: tuple[int, int], n_classes: int, *, units: int = 64, dropout: float = 0.3
) -> keras.Model:
    """Bidirectional LSTM over the frames."""
    return _recurrent(
        layers.LSTM,
        "bilstm",
        input_shape,
        n_classes,
        units=units,
        dropout=dropout,
        bidirectional=True,
    )


@register("bigru")
def build_bigru(
    input_shape: tuple[int, int], n_classes: int, *, units: int = 64, dropout: float = 0.3
) -> keras.Model:
    """Bidirectional GRU over the frames."""
    return _recurrent(
        layers.GRU,
        "bigru",
        input_shape,
        n_classes,
        units=units,
        dropout=dropout,
        bidirectional=True,
    )


@register("tcn")
def build_tcn(
    input_shape: tuple[int, int],
    n_classes: int,
    *,
    filters: int = 32,
    kernel_size: int = 3,
    dilations: Sequence[int] = (1, 2, 4, 8),
    dropout: float = 0.2,
) -> keras.Model:
    """Temporal convolutional network: residual blocks of dilated causal 1-D convolutions.

    Each block doubles the dilation, so the receptive field grows exponentially with depth
    while every output frame still only sees the past. The frames' features are then
    averaged, since a genre is a property of the whole excerpt rather than of its last frame.
    """
    inputs = keras.Input(shape=input_shape, name="log_mel")
    x = inputs
    for dilation in dilations:
        residual = x
        for conv in range(2):
            x = layers.Conv1D(
                filters,
                kernel_size,
                padding="causal",
                dilation_rate=dilation,
                name=f"block{dilation}_conv{conv}",
            )(x)
            x = layers.LayerNormalization(name=f"block{dilation}_norm{conv}")(x)
            x = layers.Activation("relu")(x)
            x = layers.SpatialDropout1D(dropout)(x)
        if residual.shape[-1] != filters:
            # A 1x1 convolution matches the channel count so the skip connection can be added.
            residual = layers.Conv1D(filters, 1, name=f"block{dilation}_skip")(residual)
        x = layers.Activation("relu")(layers.Add()([x, residual]))
    pooled = layers.GlobalAveragePooling1D(name="time_average")(x)
    return keras.Model(inputs, _classifier_head(pooled, n_classes, dropout), name="tcn")


@register("mlp")
def build_mlp(
    input_shape: tuple[int, int],
    n_classes: int,
    *,
    units: Sequence[int] = (128, 64),
    dropout: float = 0.3,
) -> keras.Model:
    """Dense layers over time-pooled frames: each mel band's mean and maximum over time."""
    inputs = keras.Input(shape=input_shape, name="log_mel")
    x = layers.Concatenate(name="time_pooled")(
        [layers.GlobalAveragePooling1D()(inputs), layers.GlobalMaxPooling1D()(inputs)]
    )
    for index, width in enumerate(units):
        x = layers.Dense(width, activation="relu", name=f"dense{index}")(x)
        x = layers.Dropout(dropout)(x)
    outputs = layers.Dense(n_classes, activation="softmax", name="probabilities")(x)
    return keras.Model(inputs, outputs, name="mlp")


@register("cnn")
def build_cnn(
    input_shape: tuple[int, int],
    n_classes: int,
    *,
    filters: Sequence[int] = (16, 32, 64),
    dropout: float = 0.3,
) -> keras.Model:
    """2-D convolutions over the (frames x mel bands) image, pooled between blocks."""
    inputs = keras.Input(shape=input_shape, name="log_mel")
    x = layers.Reshape((*input_shape, 1), name="as_image")(inputs)
    for index, width in enumerate(filters):
        x = layers.Conv2D(width, 3, padding="same", use_bias=False, name=f"conv{index}")(x)
        # Keras' default momentum (0.99) leaves the moving statistics used for validation
        # far from the batch ones for the few hundred steps of a run, and early stopping
        # then halts on a misleading validation loss.
        x = layers.BatchNormalization(momentum=0.9, name=f"norm{index}")(x)
        x = layers.Activation("relu")(x)
        if index < len(filters) - 1:
            # Halve each axis that is still long enough, so small inputs never shrink to zero.
            pool = tuple(2 if size >= 2 else 1 for size in x.shape[1:3])
            x = layers.MaxPooling2D(pool, name=f"pool{index}")(x)
    pooled = layers.GlobalAveragePooling2D(name="average")(x)
    return keras.Model(inputs, _classifier_head(pooled, n_classes, dropout), name="cnn")


def summarise_sequences(sequences: np.ndarray, n_mfcc: int = 20) -> np.ndarray:
    """Per-sequence summary features: MFCC, delta-MFCC and log-mel statistics over time.

    MFCCs are the DCT of the log-mel frames (``librosa.feature.mfcc`` on a log-mel input);
    their mean and spread over time describe timbre, the spread of their frame-to-frame
    change describes how fast it moves, and each mel band's mean and spread plus the
    spectral flux summarise the spectrum itself.
    """
    log_mel = np.asarray(sequences, dtype=np.float32).transpose(0, 2, 1)  # (n, n_mels, frames)
    mfcc = librosa.feature.mfcc(S=log_mel, n_mfcc=min(n_mfcc, log_mel.shape[1]))
    mfcc_change = np.diff(mfcc, axis=-1)
    flux = np.abs(np.diff(log_mel, axis=-1)).mean(axis=1)
    return np.concatenate(
        [
            mfcc.mean(axis=-1),
            mfcc.std(axis=-1),
            mfcc_change.std(axis=-1),
            log_mel.mean(axis=-1),
            log_mel.std(axis=-1),
            flux.mean(axis=-1, keepdims=True),
            flux.std(axis=-1, keepdims=True),
        ],
        axis=1,
    )


@register("svm")
def build_svm(
    input_shape: tuple[int, int],
    n_classes: int,
    *,
    n_mfcc: int = 20,
    C: float = 10.0,  # noqa: N803 - scikit-learn's name for the regularisation strength
    gamma: str | float = "scale",
    calibration_folds: int = 3,
) -> SklearnPipeline:
    """Classical baseline: an RBF SVM on per-sequence MFCC and spectral summary statistics.

    The SVM's scores are turned into probabilities by sigmoid calibration on
    ``calibration_folds`` cross-validation folds, so its sequence probabilities can be
    averaged per track like those of the neural networks.
    """
    return SklearnPipeline(
        [
            ("summary", FunctionTransformer(summarise_sequences, kw_args={"n_mfcc": n_mfcc})),
            ("scale", StandardScaler()),
            (
                "svm",
                CalibratedClassifierCV(SVC(C=C, gamma=gamma), cv=calibration_folds, ensemble=False),
            ),
        ]
    )
