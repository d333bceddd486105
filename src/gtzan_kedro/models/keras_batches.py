"""The Keras adapter's training batches (shuffled and augmented anew every epoch, seeded) and
its progress lines.

Importing this module imports Keras (the adapter imports it when it trains).
"""

from __future__ import annotations

import logging
import time
from typing import Any

import keras
import numpy as np

from gtzan_kedro.models.augmentation import CropPartners, augment_batch, random_crops

logger = logging.getLogger(__name__)


class TrainingBatches(keras.utils.PyDataset):
    """Batches of training examples with one-hot targets, for ``model.fit``.

    Batch ``b`` of epoch ``e`` is drawn from a generator seeded with ``(seed, e, b)``: a run
    is repeatable whatever order Keras asks for the batches in, and every epoch differs.
    Only training uses it; validation data goes to ``fit`` as plain arrays.
    """

    def __init__(  # noqa: PLR0913 - the data and how it is served
        self,
        examples: np.ndarray,
        labels: np.ndarray,
        *,
        n_classes: int,
        batch_size: int,
        augmentation: dict[str, Any],
        seed: int,
        crops: CropPartners | None = None,
    ) -> None:
        super().__init__()
        self.examples = examples
        # Random crops when asked for and the examples have partners to crop from.
        self.crops = crops if augmentation.get("random_crop") else None
        self.targets = np.eye(n_classes, dtype=np.float32)[np.asarray(labels)]
        self.batch_size = batch_size
        self.augmentation = augmentation
        self.seed = seed
        self.epoch = 0
        self._order = self._shuffled()

    def _shuffled(self) -> np.ndarray:
        return np.random.default_rng([self.seed, self.epoch]).permutation(len(self.targets))

    def __len__(self) -> int:
        return (len(self.targets) + self.batch_size - 1) // self.batch_size

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        # Sorted: memory-mapped examples are read front to back.
        rows = np.sort(self._order[index * self.batch_size : (index + 1) * self.batch_size])
        rng = np.random.default_rng([self.seed, self.epoch, index])
        examples = (
            self.examples[rows]
            if self.crops is None
            else random_crops(self.examples, rows, self.crops, rng)
        )
        return augment_batch(examples, self.targets[rows], self.augmentation, rng)

    def on_epoch_end(self) -> None:
        """Reshuffle, and draw new augmentations, for the next epoch."""
        self.epoch += 1
        self._order = self._shuffled()


class EpochLog(keras.callbacks.Callback):
    """One log line per epoch, naming the model: models trained side by side stay apart."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name
        self._started = 0.0

    def on_epoch_begin(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        """Note when the epoch started."""
        self._started = time.monotonic()

    def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        """Log the epoch's scores and how long it took."""
        scores = " - ".join(f"{key}: {value:.4f}" for key, value in (logs or {}).items())
        seconds = time.monotonic() - self._started
        # `fit` hands every callback its epoch count in `params`.
        epochs = self.params["epochs"]
        logger.info("%s: epoch %d/%d - %.1f s - %s", self.name, epoch + 1, epochs, seconds, scores)
