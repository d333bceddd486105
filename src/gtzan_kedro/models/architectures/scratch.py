"""The seed's architectures, trained from scratch: recurrent networks, a TCN, an MLP, a CNN
on log-mel windows, and the classical baseline, an RBF SVM on MFCC statistics.

Importing this module registers them (``@architecture``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import Field, PositiveFloat, PositiveInt

from gtzan_kedro.keras_loader import load_keras as _keras
from gtzan_kedro.models.architectures.registry import Fraction, architecture

if TYPE_CHECKING:
    import keras
    from sklearn.pipeline import Pipeline as SklearnPipeline


def _classifier_head(features: Any, n_classes: int, dropout: float) -> Any:
    """Dropout then a softmax layer over the classes."""
    layers = _keras().layers
    return layers.Dense(n_classes, activation="softmax", name="probabilities")(
        layers.Dropout(dropout)(features)
    )


@architecture("recurrent", framework="keras")
def build_recurrent(  # noqa: PLR0913 - the cell and its head are all hyperparameters
    input_shape: tuple[int, int],
    n_classes: int,
    *,
    cell: Literal["lstm", "gru"] = "lstm",
    bidirectional: bool = False,
    units: PositiveInt = 64,
    dropout: Fraction = 0.3,
    pooling: Literal["last", "mean_max"] = "last",
    normalise: bool = False,
) -> keras.Model:
    """One LSTM or GRU layer over the frames, optionally bidirectional.

    ``pooling: last`` classifies from the last state (the seed's design); ``mean_max`` from
    each unit's mean and maximum over every frame, so the whole excerpt counts. ``normalise``
    adds layer normalisation of the inputs and of the recurrent outputs.
    """
    keras = _keras()
    layers = keras.layers
    inputs = keras.Input(shape=input_shape, name="features")
    x = layers.LayerNormalization(name="input_norm")(inputs) if normalise else inputs
    layer = {"lstm": layers.LSTM, "gru": layers.GRU}[cell]
    recurrent = layer(units, return_sequences=pooling == "mean_max", name=cell)
    if bidirectional:
        recurrent = layers.Bidirectional(recurrent, name="bidirectional")
    x = recurrent(x)
    if normalise:
        x = layers.LayerNormalization(name="recurrent_norm")(x)
    if pooling == "mean_max":
        x = layers.Concatenate(name="time_pooled")(
            [layers.GlobalAveragePooling1D()(x), layers.GlobalMaxPooling1D()(x)]
        )
    name = f"{'bi' if bidirectional else ''}{cell}"
    return keras.Model(inputs, _classifier_head(x, n_classes, dropout), name=name)


@architecture("tcn", framework="keras")
def build_tcn(
    input_shape: tuple[int, int],
    n_classes: int,
    *,
    filters: PositiveInt = 32,
    kernel_size: PositiveInt = 3,
    dilations: Sequence[PositiveInt] = (1, 2, 4, 8),
    dropout: Fraction = 0.2,
) -> keras.Model:
    """Temporal convolutional network: residual blocks of dilated causal 1-D convolutions.

    Each block doubles the dilation, so the receptive field grows exponentially with depth
    while every output frame still only sees the past. The frames' features are then
    averaged, since a genre is a property of the whole excerpt rather than of its last frame.
    """
    keras = _keras()
    layers = keras.layers
    inputs = keras.Input(shape=input_shape, name="features")
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


@architecture("mlp", framework="keras")
def build_mlp(
    input_shape: tuple[int, ...],
    n_classes: int,
    *,
    units: Sequence[PositiveInt] = (128, 64),
    dropout: Fraction = 0.3,
) -> keras.Model:
    """Dense layers; windows of frames are first pooled over time (each dim's mean and max)."""
    keras = _keras()
    layers = keras.layers
    inputs = keras.Input(shape=input_shape, name="features")
    x = inputs
    if len(input_shape) == 2:  # noqa: PLR2004 - (frames, dims) windows rather than vectors
        x = layers.Concatenate(name="time_pooled")(
            [layers.GlobalAveragePooling1D()(inputs), layers.GlobalMaxPooling1D()(inputs)]
        )
    for index, width in enumerate(units):
        x = layers.Dense(width, activation="relu", name=f"dense{index}")(x)
        x = layers.Dropout(dropout)(x)
    outputs = layers.Dense(n_classes, activation="softmax", name="probabilities")(x)
    return keras.Model(inputs, outputs, name="mlp")


@architecture("cnn", framework="keras")
def build_cnn(
    input_shape: tuple[int, int],
    n_classes: int,
    *,
    filters: Sequence[PositiveInt] = (16, 32, 64),
    dropout: Fraction = 0.3,
    convolve_over: Literal["frames_and_dims", "frames"] = "frames_and_dims",
) -> keras.Model:
    """Convolution blocks pooled between them, over the (frames x dims) image by default.

    ``frames_and_dims`` suits log-mel windows, whose neighbouring bands are related.
    ``frames`` slides 1-D convolutions over the frames only, a frame's dimensions being its
    channels: for sequences of embeddings, whose neighbouring dimensions are unrelated.
    """
    keras = _keras()
    layers = keras.layers
    inputs = keras.Input(shape=input_shape, name="features")
    if convolve_over == "frames":
        x = inputs
        conv, pooling, average = layers.Conv1D, layers.MaxPooling1D, layers.GlobalAveragePooling1D
    else:
        x = layers.Reshape((*input_shape, 1), name="as_image")(inputs)
        conv, pooling, average = layers.Conv2D, layers.MaxPooling2D, layers.GlobalAveragePooling2D
    for index, width in enumerate(filters):
        x = conv(width, 3, padding="same", use_bias=False, name=f"conv{index}")(x)
        # Keras' default momentum (0.99) leaves the moving statistics used for validation
        # far from the batch ones for the few hundred steps of a run, and early stopping
        # then halts on a misleading validation loss.
        x = layers.BatchNormalization(momentum=0.9, name=f"norm{index}")(x)
        x = layers.Activation("relu")(x)
        if index < len(filters) - 1:
            # Halve each axis that is still long enough, so small inputs never shrink to zero.
            pool = tuple(2 if size >= 2 else 1 for size in x.shape[1:-1])
            x = pooling(pool, name=f"pool{index}")(x)
    pooled = average(name="average")(x)
    return keras.Model(inputs, _classifier_head(pooled, n_classes, dropout), name="cnn")


@architecture("svm", framework="sklearn")
def build_svm(
    input_shape: tuple[int],
    n_classes: int,
    *,
    C: PositiveFloat = 10.0,  # noqa: N803 - scikit-learn's name for the regularisation
    gamma: Literal["scale", "auto"] | PositiveFloat = "scale",
    calibration_folds: Annotated[int, Field(ge=2)] = 3,
) -> SklearnPipeline:
    """Classical baseline: an RBF SVM on standardised feature vectors (``mfcc_stats``).

    The SVM's scores are turned into probabilities by sigmoid calibration on
    ``calibration_folds`` cross-validation folds, so its window probabilities can be
    averaged per track like those of the neural networks.
    """
    # Imported here, as Keras is: every command validates the blocks, few build a model.
    from sklearn.calibration import CalibratedClassifierCV  # noqa: PLC0415
    from sklearn.pipeline import Pipeline as SklearnPipeline  # noqa: PLC0415
    from sklearn.preprocessing import StandardScaler  # noqa: PLC0415
    from sklearn.svm import SVC  # noqa: PLC0415

    return SklearnPipeline(
        [
            ("scale", StandardScaler()),
            (
                "svm",
                CalibratedClassifierCV(SVC(C=C, gamma=gamma), cv=calibration_folds, ensemble=False),
            ),
        ]
    )
