"""The Keras port of musicnn against the original TensorFlow 1 graph shipped in the wheel."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf
from tensorflow.core.protobuf import meta_graph_pb2

from gtzan_kedro.features.windows import sliding_windows
from gtzan_kedro.musicnn import network as musicnn
from gtzan_kedro.musicnn.wheel import read_member

ORIGINAL_TENSORS = {
    "taggram": "model/Sigmoid:0",
    "max_pool": "model/Max:0",
    "mean_pool": "model/moments/Squeeze:0",
    "penultimate": "model/batch_normalization_10/batchnorm/add_1:0",
}

# Float32 relative accuracy, of each value and of its layer's largest value (see the test),
# and the least absolute tolerance, for values near zero (up to 2e-4 relative at 0.04).
RTOL, ATOL = 1e-5, 2e-5


def original_outputs(wheel: Path, model: str, patches: np.ndarray, folder: Path) -> dict:
    """Run the wheel's own inference graph, its variables assigned from its checkpoint."""
    meta = meta_graph_pb2.MetaGraphDef()
    meta.ParseFromString(read_member(wheel, f"musicnn/{model}/.meta"))
    graph_def = tf.compat.v1.graph_util.extract_sub_graph(meta.graph_def, ["model/Sigmoid"])
    for suffix in (".index", ".data-00000-of-00001"):
        (folder / f"original{suffix}").write_bytes(read_member(wheel, f"musicnn/{model}/{suffix}"))
    reader = tf.train.load_checkpoint(str(folder / "original"))
    variables = [node.name for node in graph_def.node if node.op == "VariableV2"]
    assert len(variables) == 64
    graph = tf.Graph()
    with graph.as_default():
        tf.compat.v1.import_graph_def(graph_def, name="")
        assignments = [
            tf.compat.v1.assign(graph.get_tensor_by_name(f"{name}:0"), reader.get_tensor(name))
            for name in variables
        ]
    with tf.compat.v1.Session(graph=graph) as session:
        session.run(assignments)
        outputs = session.run(
            ORIGINAL_TENSORS,
            feed_dict={"model/Placeholder:0": patches, "model/Placeholder_2:0": False},
        )
    return {name: value.reshape(len(patches), -1) for name, value in outputs.items()}


@pytest.mark.parametrize("model", musicnn.MODELS)
def test_port_matches_the_original_graph(
    model: str, cached_musicnn_wheel: Path, music_like_clip: np.ndarray, tmp_path: Path
) -> None:
    """Tag probabilities and every embedding layer agree with the original to float32 accuracy.

    Float32 convolutions agree across CPU kernels (and thread counts) relatively, not
    absolutely: a max-pooled value of 42.7 differed by 1.03e-4 on one machine (2.4e-6
    relative). A value that sums terms of the layer's size into a small result carries their
    rounding error (4e-5 at 0.48, in a layer reaching 43, on a loaded machine). So the
    tolerance is 1e-5 of the value plus 1e-5 of the layer's largest value (at least 2e-5): a
    wrong port differs by far more.
    """
    patches = sliding_windows(
        musicnn.mel_frames(music_like_clip, 22050), musicnn.PATCH_FRAMES, musicnn.PATCH_FRAMES
    )
    # The feature set's windows: three patches and one flush with the end of the 10-s clip.
    assert patches.shape == (4, 187, 96)
    weights = musicnn.ensure_musicnn_weights(
        model, tmp_path / "weights", wheel_cache=cached_musicnn_wheel.parent
    )
    expected = original_outputs(cached_musicnn_wheel, model, patches, tmp_path)
    for layer in musicnn.LAYERS:
        ported = musicnn.embed(patches, weights, [layer])
        scale = np.abs(expected[layer]).max()
        np.testing.assert_allclose(
            ported, expected[layer], rtol=RTOL, atol=max(ATOL, RTOL * scale), err_msg=layer
        )
    # Different patches give different tags: the comparison is not one of constants.
    assert np.ptp(expected["taggram"], axis=0).max() > 1e-3
    assert (tmp_path / "weights" / musicnn.LICENCE_FILE).read_text().startswith("Copyright")
