"""musicnn_frames: the mid-end's output over the whole clip, frame by frame, pooled in time."""

from __future__ import annotations

import numpy as np
import pytest

from gtzan_kedro.features.musicnn import musicnn, musicnn_frames
from gtzan_kedro.musicnn import network

SAMPLE_RATE = 22050


@pytest.fixture(scope="module")
def weights(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Randomly initialised musicnn weights (the layout is what is tested, not the values)."""
    path = network.weights_file(tmp_path_factory.mktemp("weights"), "MSD_musicnn")
    network.build_musicnn().save_weights(path)
    return str(path)


def test_frames_cover_the_clip_once_and_pool_to_the_patch_embeddings(
    weights: str, music_like_clip: np.ndarray
):
    clip = music_like_clip[: int(7.5 * SAMPLE_RATE)]  # two full patches and a part of one
    n_frames = len(network.mel_frames(clip, SAMPLE_RATE))

    per_frame = musicnn_frames(clip, SAMPLE_RATE, weights=weights, pool_frames=1)
    pooled = musicnn_frames(clip, SAMPLE_RATE, weights=weights, pool_frames=16)
    patches = musicnn(clip, SAMPLE_RATE, weights=weights, layers=["mean_pool"])

    assert per_frame.shape == (n_frames, 753)
    assert pooled.shape == (-(-n_frames // 16), 753) and pooled.dtype == np.float32
    # The first patch's frames average to musicnn's own mean-pooled embedding of that patch.
    np.testing.assert_allclose(
        per_frame[: network.PATCH_FRAMES].mean(axis=0), patches[0], rtol=1e-4, atol=1e-5
    )
    np.testing.assert_allclose(pooled[0], per_frame[:16].mean(axis=0), rtol=1e-5, atol=1e-6)
