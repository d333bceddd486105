"""Fixtures of the modelling tests: tiny feature splits and the project's configuration."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from kedro.config import OmegaConfigLoader

from gtzan_kedro.genres import GENRES
from tests.conftest import PROJECT_ROOT

FRAMES, N_MELS = 16, 8
# Fast settings for any Keras architecture: enough to run every code path once.
TINY_TRAINING = {"epochs": 1, "batch_size": 8, "learning_rate": 0.001, "early_stopping_patience": 1}


def make_split(n_tracks: int, sequences_per_track: int, seed: int) -> dict[str, np.ndarray]:
    """Random sequences of ``n_tracks`` tracks, genres in turn, with a genre-dependent offset."""
    rng = np.random.default_rng(seed)
    track_labels = np.arange(n_tracks) % len(GENRES)
    labels = np.repeat(track_labels, sequences_per_track).astype(np.int64)
    # Interleave the tracks' sequences, as nothing guarantees they arrive grouped.
    order = rng.permutation(len(labels))
    track_ids = np.repeat([f"track{index:03d}" for index in range(n_tracks)], sequences_per_track)
    sequences = rng.standard_normal((len(labels), FRAMES, N_MELS)).astype(np.float32)
    sequences += 0.5 * labels[:, None, None]  # something to learn
    return {"sequences": sequences[order], "labels": labels[order], "track_ids": track_ids[order]}


@pytest.fixture(scope="session")
def tiny_splits() -> dict[str, dict[str, np.ndarray]]:
    """Train 40, validation 20 and test 20 sequences of 16 frames x 8 mel bands, 2 per track."""
    return {
        "train": make_split(20, 2, seed=0),
        "validation": make_split(10, 2, seed=1),
        "test": make_split(10, 2, seed=2),
    }


def write_model_input(splits: dict[str, dict[str, np.ndarray]], data: Path) -> None:
    """Write the splits where the feature_engineering pipeline would: data/05_model_input."""
    model_input = data / "05_model_input"
    model_input.mkdir(parents=True, exist_ok=True)
    for split, arrays in splits.items():
        for kind, array in arrays.items():
            np.save(model_input / f"{split}_{kind}.npy", array)


@pytest.fixture(scope="session")
def project_config() -> OmegaConfigLoader:
    """The project's own configuration (conf/base)."""
    return OmegaConfigLoader(
        conf_source=str(PROJECT_ROOT / "conf"), base_env="base", default_run_env="base"
    )


@pytest.fixture(scope="session")
def parameters(project_config: OmegaConfigLoader) -> dict[str, Any]:
    """The project's parameters."""
    return project_config["parameters"]
