"""Two-phase fine-tuning in one ``fit``: the new head alone first, then everything, slowly.

Keras compiles a model once, with one optimizer and the weights trainable at that time. A
:class:`FineTuningModel` adds :class:`UnfreezeBackbone` to its own ``fit``: after
``head_epochs`` epochs the callback makes the backbone trainable, gives the model a fresh
Adam at ``fine_tune_learning_rate`` and has Keras trace the training step again, so any
trainer that calls ``model.fit`` once gets both phases.

Importing this module imports Keras; it registers the model class for loading saved models.
"""

from __future__ import annotations

import logging
from typing import Any

import keras

logger = logging.getLogger(__name__)


class UnfreezeBackbone(keras.callbacks.Callback):
    """At the start of epoch ``head_epochs`` (0-based), unfreeze ``backbone`` and slow down."""

    def __init__(self, backbone: str, head_epochs: int, learning_rate: float) -> None:
        super().__init__()
        self.backbone = backbone
        self.head_epochs = head_epochs
        self.learning_rate = learning_rate

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        """Switch to end-to-end training when the head-only epochs are over."""
        if epoch != self.head_epochs:
            return
        model = self.model
        model.get_layer(self.backbone).trainable = True
        # An optimizer only updates the variables it was built for: a new one, built for all.
        model.optimizer = keras.optimizers.Adam(learning_rate=self.learning_rate)
        model.optimizer.build(model.trainable_variables)
        model.make_train_function(force=True)
        logger.info(
            "Epoch %d: training end to end at learning rate %g.", epoch + 1, self.learning_rate
        )


@keras.saving.register_keras_serializable(package="gtzan_kedro")
class FineTuningModel(keras.Model):
    """A functional model whose ``fit`` trains its head, then unfreezes its backbone.

    Saved and loaded like any functional model (the schedule is only needed to train).
    """

    def __init__(
        self,
        *args: Any,
        backbone: str = "backbone",
        head_epochs: int = 0,
        fine_tune_learning_rate: float = 1e-5,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.schedule = UnfreezeBackbone(backbone, head_epochs, fine_tune_learning_rate)

    def fit(self, *args: Any, callbacks: list[Any] | None = None, **kwargs: Any) -> Any:
        """Keras' ``fit``, with the unfreezing callback first."""
        return super().fit(*args, callbacks=[self.schedule, *(callbacks or [])], **kwargs)
