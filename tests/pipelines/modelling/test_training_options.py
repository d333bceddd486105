"""Training options: augmentation on training batches only, drawn anew each epoch, seeded."""

from __future__ import annotations

import numpy as np
import pytest

from gtzan_kedro.features.windows import sliding_windows
from gtzan_kedro.models import augmentation
from gtzan_kedro.models.augmentation import augment_batch, crop_partners, random_crops
from gtzan_kedro.models.frameworks import get_adapter
from gtzan_kedro.pipelines.modelling.nodes import build_model
from tests.pipelines.modelling.conftest import GTZAN_LABEL_SET, GTZAN_MODEL_INPUT, TINY_TRAINING

HEAVY = {
    "time_masks": 2,
    "max_time_mask": 0.25,
    "frequency_masks": 2,
    "max_frequency_mask": 0.25,
    "mixup_alpha": 0.4,
}


def batch(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Eight (16 frames x 8 dims) windows of positive values, one-hot targets of 4 classes."""
    rng = np.random.default_rng(seed)
    examples = rng.uniform(1, 2, size=(8, 16, 8)).astype(np.float32)
    return examples, np.eye(4, dtype=np.float32)[np.arange(8) % 4]


def test_masks_and_mixup_are_seeded_and_keep_targets_distributions():
    examples, targets = batch()

    first = augment_batch(examples, targets, HEAVY, np.random.default_rng(1))
    again = augment_batch(examples, targets, HEAVY, np.random.default_rng(1))
    other = augment_batch(examples, targets, HEAVY, np.random.default_rng(2))

    np.testing.assert_array_equal(first[0], again[0])
    np.testing.assert_array_equal(first[1], again[1])
    assert not np.array_equal(first[0], other[0])
    np.testing.assert_allclose(first[1].sum(axis=1), 1.0, rtol=1e-6)
    assert (first[1].max(axis=1) < 1).any()  # mixup blended some targets
    np.testing.assert_array_equal(examples, batch()[0])  # the input is left as it was


def test_masks_zero_whole_spans_of_frames_and_of_dimensions():
    examples, targets = batch()
    masks_only = {"time_masks": 1, "max_time_mask": 0.5, "frequency_masks": 1}
    masks_only |= {"max_frequency_mask": 0.5}

    masked, same_targets = augment_batch(examples, targets, masks_only, np.random.default_rng(3))

    zero_frames = (masked == 0).all(axis=2)  # a time mask zeroes every dimension of a frame
    zero_dims = (masked == 0).all(axis=1)  # a frequency mask every frame of a dimension
    assert zero_frames.any() and zero_dims.any()
    assert zero_frames.sum(axis=1).max() <= 8 and zero_dims.sum(axis=1).max() <= 4
    np.testing.assert_array_equal(same_targets, targets)


def test_no_augmentation_leaves_the_batch_as_it_is():
    examples, targets = batch()

    unchanged = augment_batch(examples, targets, {}, np.random.default_rng(0))

    np.testing.assert_array_equal(unchanged[0], examples)
    np.testing.assert_array_equal(unchanged[1], targets)


def test_training_batches_differ_by_epoch_and_repeat_with_the_seed():
    from gtzan_kedro.models.keras_batches import TrainingBatches  # noqa: PLC0415 - Keras

    examples, targets = batch()
    labels = targets.argmax(axis=1)

    def epochs(seed: int) -> list[np.ndarray]:
        batches = TrainingBatches(
            examples, labels, n_classes=4, batch_size=4, augmentation=HEAVY, seed=seed
        )
        drawn = []
        for _ in range(2):
            drawn.append(np.concatenate([batches[index][0] for index in range(len(batches))]))
            batches.on_epoch_end()
        return drawn

    first, second = epochs(seed=5)
    assert not np.array_equal(first, second)
    np.testing.assert_array_equal(epochs(seed=5)[1], second)
    assert not np.array_equal(epochs(seed=6)[0], first)


@pytest.mark.parametrize("block", ["gru", "cnn"])
def test_only_training_batches_are_augmented(
    block: str, tiny_splits, parameters, monkeypatch: pytest.MonkeyPatch
):
    calls = []

    def spy(examples, targets, settings, rng):
        calls.append(np.asarray(examples))
        return augment_batch(examples, targets, settings, rng)

    monkeypatch.setattr("gtzan_kedro.models.keras_batches.augment_batch", spy)
    assert augmentation.is_active(HEAVY)
    train, validation, test = (tiny_splits[name] for name in ("train", "validation", "test"))
    architecture = parameters["modelling"]["architectures"][block]
    training = TINY_TRAINING | {"epochs": 2, "augmentation": HEAVY, "label_smoothing": 0.1}
    adapter = get_adapter("keras")
    model = build_model(train["examples"], GTZAN_MODEL_INPUT, GTZAN_LABEL_SET, architecture, seed=0)

    model, history = adapter.fit(
        model,
        (train["examples"], train["labels"]),
        (validation["examples"], validation["labels"]),
        training,
        seed=0,
    )
    after_training = len(calls)
    n_classes = model.output_shape[-1]
    first = adapter.predict_proba(model, test["examples"], n_classes)
    second = adapter.predict_proba(model, test["examples"], n_classes)

    # Every training example at least once per epoch (Keras also peeks at a batch to learn its
    # shapes); nothing but training examples, and nothing after training.
    augmented = [row.tobytes() for examples in calls for row in examples]
    assert len(augmented) >= 2 * len(train["labels"])
    assert set(augmented) == {row.tobytes() for row in train["examples"]}
    assert len(calls) == after_training
    assert len(history["val_loss"]) == 2
    np.testing.assert_array_equal(first, second)


def test_crop_partners_pair_each_window_with_the_next_of_its_track_but_before_the_last():
    tracks = np.array(["a", "a", "a", "b", "b", "c", "d", "d", "d", "d"])

    partners = crop_partners(tracks, {"frames": 4, "hop": 2})

    # A track's last window is flush with its end: the window before it gets no partner.
    assert partners.next_example.tolist() == [1, -1, -1, -1, -1, -1, 7, 8, -1, -1]
    assert partners.hop == 2
    assert crop_partners(tracks, None) is None  # vectors: nothing to crop
    assert crop_partners(tracks, {"frames": 4, "hop": 5}) is None  # frames left out between


def test_random_crops_are_excerpts_of_the_track_drawn_from_the_seed():
    # Frame i of the track holds the value i in every dimension: a crop says where it starts.
    frames = np.repeat(np.arange(22, dtype=np.float32)[:, None], 3, axis=1)
    windows = sliding_windows(frames, 8, 4)  # starts 0, 4, 8, 12 and 14 (flush with the end)
    partners = crop_partners(np.array(["t"] * len(windows)), {"frames": 8, "hop": 4})
    rows = np.arange(len(windows))

    crops = [
        random_crops(windows, rows, partners, np.random.default_rng(seed)) for seed in range(8)
    ]

    starts = np.array([crop[:, 0, 0] for crop in crops])  # (draws, windows)
    for crop, first_frames in zip(crops, starts, strict=True):
        for window, start in zip(crop, first_frames, strict=True):
            np.testing.assert_array_equal(window, frames[int(start) : int(start) + 8])
    offsets = starts - windows[:, 0, 0]
    assert ((offsets >= 0) & (offsets <= 4)).all()
    assert len(set(offsets[:, 0])) > 1 and len(set(offsets[:, 2])) > 1  # drawn anew
    assert (offsets[:, 3:] == 0).all()  # the last two windows have no partner
    np.testing.assert_array_equal(
        random_crops(windows, rows, partners, np.random.default_rng(3)), crops[3]
    )
    assert windows[0, 0, 0] == 0  # the examples themselves are left as they were


def test_training_batches_crop_only_when_asked():
    from gtzan_kedro.models.keras_batches import TrainingBatches  # noqa: PLC0415 - Keras

    frames = np.repeat(np.arange(22, dtype=np.float32)[:, None], 3, axis=1)
    windows = sliding_windows(frames, 8, 4)
    labels = np.zeros(len(windows), dtype=np.int64)
    partners = crop_partners(np.array(["t"] * len(windows)), {"frames": 8, "hop": 4})

    def first_frames(settings: dict) -> np.ndarray:
        batches = TrainingBatches(
            windows,
            labels,
            n_classes=2,
            batch_size=8,
            augmentation=settings,
            seed=0,
            crops=partners,
        )
        return np.sort(batches[0][0][:, 0, 0])

    np.testing.assert_array_equal(first_frames({}), windows[:, 0, 0])
    assert not np.array_equal(first_frames({"random_crop": True}), windows[:, 0, 0])
