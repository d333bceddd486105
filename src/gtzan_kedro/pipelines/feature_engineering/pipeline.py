"""Wiring of feature engineering: one split, then one namespace per feature set in use."""

from functools import partial, update_wrapper

from kedro.pipeline import Node, Pipeline

from gtzan_kedro.pipelines.feature_engineering.nodes import (
    SPLITS,
    extract_features,
    fit_normalisation,
    make_examples,
    split_tracks,
)
from gtzan_kedro.project_config import configured_feature_sets


def _make_examples_node(split: str) -> Node:
    """Return the node that cuts ``split``'s tracks into examples."""
    func = update_wrapper(partial(make_examples, split=split), make_examples)
    return Node(
        func,
        inputs=["track_features", "track_splits", "normalisation", "params:feature_set"],
        outputs=[f"{split}_examples", f"{split}_labels", f"{split}_track_ids"],
        name=f"make_{split}_examples",
    )


def create_feature_set_template() -> Pipeline:
    """Extract one feature set per track, normalise on train, cut each split into examples."""
    return Pipeline(
        [
            Node(
                extract_features,
                inputs=[
                    "raw_clips",
                    "raw_clip_stats",
                    "cached_fingerprints",
                    "track_splits",
                    "params:feature_set",
                    "params:sample_rate",
                    "params:feature_engineering.recompute_features",
                    "params:feature_engineering.n_jobs",
                ],
                outputs="track_features",
                name="extract_features",
            ),
            Node(
                fit_normalisation,
                inputs=["track_features", "track_splits"],
                outputs="normalisation",
                name="fit_normalisation",
            ),
            *(_make_examples_node(split) for split in SPLITS),
        ]
    )


def create_pipeline(**kwargs) -> Pipeline:
    """Split by track, then featurise each track once per feature set the architectures read."""
    split = Pipeline(
        [
            Node(
                split_tracks,
                inputs=["track_table", "params:feature_engineering", "params:seed"],
                outputs="track_splits",
                name="split_tracks",
            )
        ]
    )
    template = create_feature_set_template()
    return split + sum(
        (
            Pipeline(
                template,
                namespace=feature_set,
                inputs={"raw_clips", "raw_clip_stats", "track_splits"},
                parameters={
                    "params:feature_set": f"params:feature_engineering.feature_sets.{feature_set}",
                    "params:sample_rate": "params:sample_rate",
                    "params:feature_engineering.recompute_features": (
                        "params:feature_engineering.recompute_features"
                    ),
                    "params:feature_engineering.n_jobs": "params:feature_engineering.n_jobs",
                },
            )
            for feature_set in configured_feature_sets()
        ),
        start=Pipeline([]),
    )
