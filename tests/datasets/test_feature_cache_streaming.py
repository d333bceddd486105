"""The feature cache takes one chunk of tracks at a time, as a generator node yields them."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from gtzan_kedro.datasets import FeatureCacheDataset, FeatureFingerprintsDataset, NumpyArrayDataset
from gtzan_kedro.pipelines.feature_engineering import nodes


def cache(folder: Path) -> FeatureCacheDataset:
    return FeatureCacheDataset(
        path=str(folder), filename_suffix=".npy", dataset={"type": NumpyArrayDataset}
    )


def chunk(*track_ids: str, fingerprint: str = "f1") -> dict:
    return {
        track_id: {"fingerprint": f"{fingerprint}-{track_id}", "features": np.full((3, 2), i)}
        for i, track_id in enumerate(track_ids)
    }


def test_partial_saves_keep_earlier_tracks_and_fingerprints(tmp_path: Path):
    dataset = cache(tmp_path)
    dataset.save(chunk("a", "b"))
    dataset.save(chunk("c"))
    dataset.save(chunk("a", fingerprint="f2"))  # a recomputed track replaces its own entry

    assert json.loads((tmp_path / "fingerprints.json").read_text()) == {
        "a": "f2-a",
        "b": "f1-b",
        "c": "f1-c",
    }
    loaded = cache(tmp_path).load()
    assert sorted(loaded) == ["a", "b", "c"]
    assert loaded["b"]().tolist() == [[1, 1]] * 3
    assert FeatureFingerprintsDataset(path=str(tmp_path), filename_suffix=".npy").load() == {
        "a": "f2-a",
        "b": "f1-b",
        "c": "f1-c",
    }


def test_a_later_run_adds_to_what_an_earlier_run_wrote(tmp_path: Path):
    cache(tmp_path).save(chunk("a"))
    cache(tmp_path).save(chunk("b"))

    assert json.loads((tmp_path / "fingerprints.json").read_text()) == {"a": "f1-a", "b": "f1-b"}


def test_features_are_yielded_before_every_track_is_decoded(tmp_path, monkeypatch):
    monkeypatch.setattr(nodes, "FEATURE_CHUNK_TRACKS", 2)
    decoded = []

    def loader(track_id: str):
        def load() -> np.ndarray:
            decoded.append(track_id)
            return np.zeros(4096, dtype=np.float32)

        return load

    track_ids = [f"t{i}" for i in range(5)]
    splits = nodes.pd.DataFrame({"track_id": track_ids, "path": [f"{t}.wav" for t in track_ids]})
    log_mel = {"extractor": "log_mel", "params": {"n_fft": 512, "hop_length": 256, "n_mels": 8}}
    chunks = nodes.extract_features(
        {f"{t}.wav": loader(t) for t in track_ids},
        {f"{t}.wav": lambda: {"size": 1, "mtime": 0.0} for t in track_ids},
        {},
        splits,
        log_mel,
        22050,
        False,
        {"n_jobs": 1},
    )

    first = next(chunks)
    assert sorted(first) == ["t0", "t1"] and decoded == ["t0", "t1"]
    assert [sorted(rest) for rest in chunks] == [["t2", "t3"], ["t4"]]
