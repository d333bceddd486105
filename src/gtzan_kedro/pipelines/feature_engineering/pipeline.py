"""Wiring of the feature-engineering pipeline."""

from functools import partial, update_wrapper

from kedro.pipeline import Node, Pipeline

from gtzan_kedro.pipelines.feature_engineering.nodes import (
    SPLITS,
    extract_log_mels,
    fit_normalisation,
    make_sequences,
    split_tracks,
)


def _make_sequences_node(split: str) -> Node:
    """Return the node that cuts ``split``'s tracks into sequences."""
    func = update_wrapper(partial(make_sequences, split=split), make_sequences)
    return Node(
        func,
        inputs=[
            "log_mel_spectrograms",
            "track_splits",
            "normalisation_stats",
            "params:feature_engineering.sequences",
        ],
        outputs=[f"{split}_sequences", f"{split}_labels", f"{split}_track_ids"],
        name=f"make_{split}_sequences",
    )


def create_pipeline(**kwargs) -> Pipeline:
    """Split by track, featurise each track once, normalise on train, cut into sequences."""
    return Pipeline(
        [
            Node(
                split_tracks,
                inputs=["track_table", "params:feature_engineering", "params:seed"],
                outputs="track_splits",
                name="split_tracks",
            ),
            Node(
                extract_log_mels,
                inputs=[
                    "raw_clips",
                    "raw_clip_stats",
                    "log_mel_fingerprints",
                    "track_splits",
                    "params:feature_engineering",
                ],
                outputs="log_mel_spectrograms",
                name="extract_log_mels",
            ),
            Node(
                fit_normalisation,
                inputs=["log_mel_spectrograms", "track_splits"],
                outputs="normalisation_stats",
                name="fit_normalisation",
            ),
            *(_make_sequences_node(split) for split in SPLITS),
        ]
    )
