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
- random crops (``random_crop``): a window of a track replaced by the frames that start a
  random 0 to ``hop`` frames later, taken from it and the track's next window; every epoch
  then sees other excerpts of the track, not the same fixed windows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

# Every option off: what an absent ``augmentation`` block means.
NO_AUGMENTATION = {
    "time_masks": 0,
    "max_time_mask": 0.0,
    "frequency_masks": 0,
    "max_frequency_mask": 0.0,
    "mixup_alpha": 0.0,
    "random_crop": False,
}


@dataclass(frozen=True)
class CropPartners:
    """For each training example, the example of the same track that starts ``hop`` frames
    later (``-1``: none), so that any excerpt in between can be cut from the two."""

    next_example: np.ndarray
    hop: int


def crop_partners(track_ids: np.ndarray, window: dict[str, int] | None) -> CropPartners | None:
    """The partners of examples cut track by track, windows in order (``make_examples``).

    A track's last window is flush with its end, not ``hop`` after the one before: the
    window before it gets no partner. Neither does any when windows leave frames out between
    them (``hop`` over ``frames``), nor examples without a time axis (``window`` None).
    """
    if window is None or window["hop"] > window["frames"]:
        return None
    track_ids = np.asarray(track_ids)
    same_track = np.zeros(len(track_ids), dtype=bool)
    same_track[:-1] = track_ids[1:] == track_ids[:-1]
    # The following example is not its track's last when the one after it is the same track.
    following_not_last = np.zeros(len(track_ids), dtype=bool)
    following_not_last[:-2] = track_ids[2:] == track_ids[1:-1]
    following = np.arange(1, len(track_ids) + 1)
    return CropPartners(
        np.where(same_track & following_not_last, following, -1), int(window["hop"])
    )


def random_crops(
    examples: Any, rows: np.ndarray, partners: CropPartners, rng: np.random.Generator
) -> np.ndarray:
    """``examples[rows]`` with each one that has a partner shifted by a random 0 to ``hop``
    frames: its frames from the offset on, then its partner's that follow them."""
    batch = np.array(examples[rows], dtype=np.float32)
    frames = batch.shape[1]
    start = frames - partners.hop  # where the partner's frames go past this window's end
    for index, row in enumerate(rows):
        partner = partners.next_example[row]
        offset = int(rng.integers(0, partners.hop + 1))
        if partner >= 0 and offset:
            batch[index] = np.concatenate(
                [batch[index, offset:], np.asarray(examples[partner][start : start + offset])]
            )
    return batch


def is_active(augmentation: dict[str, Any]) -> bool:
    """Whether ``augmentation`` changes anything."""
    settings = NO_AUGMENTATION | augmentation
    masks = settings["time_masks"] * settings["max_time_mask"] > 0 or (
        settings["frequency_masks"] * settings["max_frequency_mask"] > 0
    )
    return bool(masks or settings["mixup_alpha"] > 0 or settings["random_crop"])


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
