"""Augmentation of training batches, on the fly: drawn anew every epoch, from the seed.

Only the Keras adapter's training batches (:mod:`gtzan_kedro.models.keras_batches`) call
these functions: validation, evaluation, prediction and serving see the examples as they are.

- SpecAugment-style masks (Park et al., 2019): ``time_masks`` spans of up to
  ``max_time_mask`` of the frames and ``frequency_masks`` spans of up to
  ``max_frequency_mask`` of the feature dimensions set to zero (the training mean, since
  examples are standardised). Vectors (examples without a time axis) get no time masks.
- mixup (Zhang et al., 2018): each example blended with another of the batch, and its
  one-hot target with the other's, with a weight drawn from Beta(``mixup_alpha``,
  ``mixup_alpha``); 0 switches it off.
"""

from __future__ import annotations

from typing import Any

import numpy as np

# Every option off: what an absent ``augmentation`` block means.
NO_AUGMENTATION = {
    "time_masks": 0,
    "max_time_mask": 0.0,
    "frequency_masks": 0,
    "max_frequency_mask": 0.0,
    "mixup_alpha": 0.0,
}


def is_active(augmentation: dict[str, Any]) -> bool:
    """Whether ``augmentation`` changes anything."""
    settings = NO_AUGMENTATION | augmentation
    masks = settings["time_masks"] * settings["max_time_mask"] > 0 or (
        settings["frequency_masks"] * settings["max_frequency_mask"] > 0
    )
    return bool(masks or settings["mixup_alpha"] > 0)


def _mask_spans(
    examples: np.ndarray, axis: int, count: int, max_fraction: float, rng: np.random.Generator
) -> None:
    """Zero ``count`` random spans of up to ``max_fraction`` of ``axis`` in each example."""
    size = examples.shape[axis]
    longest = int(max_fraction * size)
    if longest < 1:
        return
    for index in range(len(examples)):
        for _ in range(count):
            width = int(rng.integers(0, longest + 1))
            start = int(rng.integers(0, size - width + 1))
            span = [index] + [slice(None)] * (examples.ndim - 1)
            span[axis] = slice(start, start + width)
            examples[tuple(span)] = 0.0


def augment_batch(
    examples: np.ndarray,
    targets: np.ndarray,
    augmentation: dict[str, Any],
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """A batch's examples and one-hot targets with masks and mixup applied (copies)."""
    settings = NO_AUGMENTATION | augmentation
    examples = np.array(examples, dtype=np.float32)
    targets = np.array(targets, dtype=np.float32)
    has_time_axis = examples.ndim == 3  # noqa: PLR2004 - (batch, frames, dims) windows
    if has_time_axis:
        _mask_spans(examples, 1, settings["time_masks"], settings["max_time_mask"], rng)
    _mask_spans(
        examples,
        examples.ndim - 1,
        settings["frequency_masks"],
        settings["max_frequency_mask"],
        rng,
    )
    alpha = settings["mixup_alpha"]
    if alpha > 0 and len(examples) > 1:
        weights = rng.beta(alpha, alpha, size=len(examples)).astype(np.float32)
        partners = rng.permutation(len(examples))
        shape = (-1,) + (1,) * (examples.ndim - 1)
        examples = (
            weights.reshape(shape) * examples + (1 - weights.reshape(shape)) * (examples[partners])
        )
        targets = weights[:, None] * targets + (1 - weights[:, None]) * targets[partners]
    return examples, targets
