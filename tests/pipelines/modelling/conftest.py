"""Fixtures of the modelling tests: tiny examples, the project's configuration, tiny runs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from kedro.config import OmegaConfigLoader
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project

from gtzan_kedro.features.preprocessing import track_examples
from gtzan_kedro.labels import make_label_set
from gtzan_kedro.sources.gtzan_genres import GTZAN_GENRES as GENRES
from tests.conftest import PROJECT_ROOT

FRAMES, N_MELS = 16, 8
# The embedded dataset's labels, and model input recorded for them.
GTZAN_LABEL_SET = make_label_set(list(GENRES), "generated")
# What feature engineering records with the statistics, as far as building and training read it.
GTZAN_MODEL_INPUT = {"labels": list(GENRES), "feature_set": {"window": None}}
# Fast settings for any Keras architecture: enough to run every code path once.
TINY_TRAINING = {
    "epochs": 1,
    "batch_size": 8,
    "learning_rate": 0.001,
    "early_stopping_patience": 1,
    "jit_compile": False,  # XLA's compilation costs more than one epoch of a tiny model
}
# A tiny embedded dataset (4 clips of 3 s per genre) and small windows: features in seconds.
TINY_FEATURES = {
    "ingestion": {"generator": {"clips_per_genre": 4, "clip_seconds": 3.0}},
    "feature_engineering": {
        "split": {"validation_size": 0.25, "test_size": 0.25},
        "executor": {"n_jobs": 1},
        "feature_sets": {"log_mel": {"window": {"frames": 32, "hop": 16}}},
    },
}


def make_split(
    n_tracks: int, sequences_per_track: int, seed: int, shape: tuple[int, int] = (FRAMES, N_MELS)
) -> dict[str, np.ndarray]:
    """Random windows of ``n_tracks`` tracks, genres in turn, with a genre-dependent offset."""
    rng = np.random.default_rng(seed)
    track_labels = np.arange(n_tracks) % len(GENRES)
    labels = np.repeat(track_labels, sequences_per_track).astype(np.int64)
    # Interleave the tracks' windows, as nothing guarantees they arrive grouped.
    order = rng.permutation(len(labels))
    track_ids = np.repeat([f"track{index:03d}" for index in range(n_tracks)], sequences_per_track)
    examples = rng.standard_normal((len(labels), *shape)).astype(np.float32)
    examples += 0.5 * labels[:, None, None]  # something to learn
    return {"examples": examples[order], "labels": labels[order], "track_ids": track_ids[order]}


@pytest.fixture(scope="session")
def tiny_splits() -> dict[str, dict[str, np.ndarray]]:
    """Train 40, validation 20 and test 20 windows of 16 frames x 8 mel bands, 2 per track."""
    return {
        "train": make_split(20, 2, seed=0),
        "validation": make_split(10, 2, seed=1),
        "test": make_split(10, 2, seed=2),
    }


# musicnn_sequence's examples: 3 consecutive patches of musicnn's 1,506-dim embeddings.
SEQUENCE_SHAPE = (3, 1506)
# `--env transfer`'s parameters: the seed's architectures on musicnn_sequence.
TRANSFER_PARAMETERS = Path("conf") / "transfer" / "parameters.yml"
TRANSFER_BLOCKS = yaml.safe_load((PROJECT_ROOT / TRANSFER_PARAMETERS).read_text())["modelling"][
    "architectures"
]


@pytest.fixture(scope="session")
def sequence_splits() -> dict[str, dict[str, np.ndarray]]:
    """Train 20, validation 10 and test 10 sequences shaped like musicnn_sequence's, 1 per track."""
    return {
        "train": make_split(20, 1, seed=0, shape=SEQUENCE_SHAPE),
        "validation": make_split(10, 1, seed=1, shape=SEQUENCE_SHAPE),
        "test": make_split(10, 1, seed=2, shape=SEQUENCE_SHAPE),
    }


# Synthetic features of each feature set: per track a (rows, dims) array, and its window.
SYNTHETIC_FEATURES = {
    "log_mel": {
        "rows": FRAMES,
        "dims": N_MELS,
        "window": {"frames": FRAMES, "hop": FRAMES // 2},
        # What the artefact featurises audio with (e.g. MLflow's input example when it is logged).
        "params": {"n_fft": 512, "hop_length": 256, "n_mels": N_MELS},
    },
    "mfcc_stats": {"rows": 2, "dims": 6, "window": None, "params": {}},
}
# Runtime parameters that make the pipelines cut the synthetic features as written.
SYNTHETIC_PARAMS = {
    "feature_engineering": {
        "feature_sets": {"log_mel": {"window": SYNTHETIC_FEATURES["log_mel"]["window"]}}
    }
}


def write_feature_input(data: Path, seed: int = 0) -> None:
    """Write features as the feature_engineering pipeline would, without any audio.

    The track splits (20 training, 10 validation and 10 test tracks) and per feature set the
    per-track feature cache, unit normalisation and the examples, labels and track ids of the
    training and validation splits: enough for the modelling pipeline of any architecture.
    """
    rng = np.random.default_rng(seed)
    rows = [
        {"track_id": f"{split}{index:03d}", "label": index % len(GENRES), "split": split}
        for split, n_tracks in (("train", 20), ("validation", 10), ("test", 10))
        for index in range(n_tracks)
    ]
    splits = pd.DataFrame(rows)
    splits["genre"] = [GENRES[label] for label in splits["label"]]
    splits["path"] = "generated/" + splits["genre"] + "/" + splits["track_id"] + ".wav"
    splits["duration_s"] = 3.0
    (data / "03_primary").mkdir(parents=True, exist_ok=True)
    splits.to_parquet(data / "03_primary" / "track_splits.parquet")
    (data / "02_intermediate").mkdir(parents=True, exist_ok=True)
    (data / "02_intermediate" / "label_set.json").write_text(json.dumps(GTZAN_LABEL_SET))
    for feature_set, shape in SYNTHETIC_FEATURES.items():
        features = data / "04_feature" / feature_set
        model_input = data / "05_model_input" / feature_set
        features.mkdir(parents=True, exist_ok=True)
        model_input.mkdir(parents=True, exist_ok=True)
        arrays = {}
        for track in splits.itertuples():
            array = rng.standard_normal((shape["rows"], shape["dims"])).astype(np.float32)
            arrays[track.track_id] = array + 0.5 * track.label  # something to learn
            np.save(features / f"{track.track_id}.npy", arrays[track.track_id])
        dims = shape["dims"]
        normalisation = {
            "mean": [0.0] * dims,
            "std": [1.0] * dims,
            "rows": len(splits),
            # What feature engineering records beside its statistics for the model artefact.
            "feature_set": {
                "extractor": feature_set,
                "params": shape["params"],
                "window": shape["window"],
            },
            "sample_rate": 22050,
            "labels": list(GENRES),
        }
        (model_input / "normalisation.json").write_text(json.dumps(normalisation))
        for split in ("train", "validation"):
            tracks = splits[splits["split"] == split]
            per_track = [
                track_examples(arrays[track_id], shape["window"]) for track_id in tracks["track_id"]
            ]
            counts = [len(examples) for examples in per_track]
            np.save(model_input / f"{split}_examples.npy", np.concatenate(per_track))
            np.save(model_input / f"{split}_labels.npy", np.repeat(tracks["label"], counts))
            np.save(
                model_input / f"{split}_track_ids.npy",
                np.repeat(tracks["track_id"].to_numpy(dtype=str), counts),
            )


def run_session(project: Path, pipelines: list[str], params: dict[str, Any], **kwargs) -> None:
    """One ``kedro run --pipelines ... --params ...`` of the project copy, in this process."""
    bootstrap_project(project)
    with KedroSession.create(project_path=project, runtime_params=params) as session:
        session.run(pipeline_names=pipelines, **kwargs)


def train_tiny_project(
    project: Path, architectures: list[str], params: dict[str, Any] | None = None
) -> None:
    """Ingestion and features on tiny data, ``architectures`` trained 2 epochs, reporting."""
    params = params or {}
    features = _merge(TINY_FEATURES, params)
    training = _merge({"modelling": {"training": {"epochs": 2, "batch_size": 16}}}, params)
    run_session(project, ["ingestion", "feature_engineering"], features)
    run_session(project, ["modelling"], _merge(features, training), namespaces=architectures)
    run_session(project, ["reporting"], _merge(features, training))


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """``extra`` merged into ``base`` key by key, as Kedro merges runtime parameters."""
    merged = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


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
