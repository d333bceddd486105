"""Architectures on musicnn: a linear probe and a small head on its frozen embeddings, and the
pretrained network itself fine-tuned with a new genre head.

Importing this module registers them (``@architecture``) next to the from-scratch ones.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import Field, PositiveFloat, PositiveInt

from gtzan_kedro.models.architectures.registry import Fraction, architecture
from gtzan_kedro.musicnn import network as musicnn

if TYPE_CHECKING:
    import keras
    from sklearn.pipeline import Pipeline as SklearnPipeline

MusicnnModel = Literal["MSD_musicnn", "MTT_musicnn"]


@architecture("musicnn_probe", framework="sklearn")
def build_musicnn_probe(
    input_shape: tuple[int],
    n_classes: int,
    *,
    C: PositiveFloat = 1.0,  # noqa: N803 - scikit-learn's name for the regularisation
    max_iter: PositiveInt = 1000,
) -> SklearnPipeline:
    """Logistic regression on standardised frozen musicnn embeddings (a linear probe)."""
    from sklearn.linear_model import LogisticRegression  # noqa: PLC0415
    from sklearn.pipeline import Pipeline as SklearnPipeline  # noqa: PLC0415
    from sklearn.preprocessing import StandardScaler  # noqa: PLC0415

    return SklearnPipeline(
        [("scale", StandardScaler()), ("probe", LogisticRegression(C=C, max_iter=max_iter))]
    )


@architecture("musicnn_finetune", framework="keras")
def build_musicnn_finetune(  # noqa: PLR0913 - the pretrained network and its schedule
    input_shape: tuple[int, int],
    n_classes: int,
    *,
    weights_dir: str = str(musicnn.DEFAULT_WEIGHTS_DIR),
    model: MusicnnModel = "MSD_musicnn",
    head_epochs: Annotated[int, Field(ge=0)] = 3,
    fine_tune_learning_rate: PositiveFloat = 1e-5,
    dropout: Fraction = 0.5,
) -> keras.Model:
    """musicnn up to its penultimate layer, pretrained, with a new softmax head.

    Inputs are ``(187, 96)`` windows of the ``musicnn_mel`` feature set. The first
    ``head_epochs`` epochs train the head alone (at the training block's learning rate); then
    the whole network trains at ``fine_tune_learning_rate``. The pretrained part always runs
    in inference mode: its batch-norm statistics stay those learnt on the large collection.
    """
    import keras  # noqa: PLC0415

    from gtzan_kedro.errors import InputError  # noqa: PLC0415
    from gtzan_kedro.models.fine_tuning import FineTuningModel  # noqa: PLC0415

    expected = (musicnn.PATCH_FRAMES, musicnn.N_MELS)
    if tuple(input_shape) != expected:
        raise InputError(
            f"musicnn_finetune takes {expected} windows of the musicnn_mel feature set, "
            f"not {tuple(input_shape)}: set the window length to {musicnn.PATCH_FRAMES} frames."
        )
    pretrained = musicnn.pretrained_network(musicnn.ensure_musicnn_weights(model, weights_dir))
    backbone = keras.Model(
        pretrained.inputs, pretrained.get_layer("penultimate").output, name="backbone"
    )
    backbone.trainable = False
    inputs = keras.Input(shape=expected, name="features")
    embedding = backbone(inputs, training=False)
    outputs = keras.layers.Dense(n_classes, activation="softmax", name="probabilities")(
        keras.layers.Dropout(dropout)(embedding)
    )
    return FineTuningModel(
        inputs,
        outputs,
        name="musicnn_finetune",
        backbone="backbone",
        head_epochs=head_epochs,
        fine_tune_learning_rate=fine_tune_learning_rate,
    )
