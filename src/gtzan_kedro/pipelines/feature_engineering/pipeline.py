"""Wiring of feature engineering: the split, then one namespace per feature set in use.

With cross-validation (``split.strategy: kfold``), each fold gets its splits
(``fold_<k>.track_splits``) and each feature set its statistics and examples per fold
(``<feature set>.fold_<k>``): nothing is fitted on a fold's test tracks.
"""

from functools import partial, update_wrapper

from kedro.pipeline import Node, Pipeline

from gtzan_kedro.pipelines.feature_engineering.nodes import (
    EXAMPLE_SPLITS,
    extract_features,
    fit_normalisation,
    make_examples,
    split_all_tracks,
    split_fold,
    split_tracks,
)
from gtzan_kedro.project_config import (
    REFIT,
    configured_feature_sets,
    configured_folds,
    feature_set_inputs,
    refit_after_cross_validation,
    scoped,
)


def fold_splits(fold: str) -> str:
    """The dataset of ``fold``'s splits: the holdout split itself when there are no folds."""
    return f"{fold}.track_splits" if fold else "track_splits"


def _make_examples_node(split: str) -> Node:
    """Return the node that cuts ``split``'s tracks into examples."""
    func = update_wrapper(partial(make_examples, split=split), make_examples)
    return Node(
        func,
        inputs=["track_features", "track_splits", "normalisation", "params:feature_set"],
        outputs=[f"{split}_examples", f"{split}_labels", f"{split}_track_ids"],
        name=f"make_{split}_examples",
    )


def create_extraction_template(inputs: dict[str, str]) -> Pipeline:
    """Extract one feature set for every track, reusing cached tracks.

    ``inputs`` maps extractor arguments to the catalog datasets they are read from.
    """
    return Pipeline(
        [
            Node(
                extract_features,
                inputs={
                    "raw_clips": "raw_clips",
                    "raw_clip_stats": "raw_clip_stats",
                    "cached_fingerprints": "cached_fingerprints",
                    "track_splits": "track_splits",
                    "feature_set": "params:feature_set",
                    "sample_rate": "params:sample_rate",
                    "recompute_features": "params:feature_engineering.recompute_features",
                    "executor": "params:feature_engineering.executor",
                    **inputs,
                },
                outputs="track_features",
                name="extract_features",
            )
        ]
    )


def create_examples_template() -> Pipeline:
    """Fit normalisation on the training tracks and cut each split into examples."""
    return Pipeline(
        [
            Node(
                fit_normalisation,
                inputs=[
                    "track_features",
                    "track_splits",
                    "params:feature_set",
                    "params:sample_rate",
                    "label_set",
                ],
                outputs="normalisation",
                name="fit_normalisation",
            ),
            *(_make_examples_node(split) for split in EXAMPLE_SPLITS),
        ]
    )


def example_folds() -> list[str]:
    """The folds that get statistics and examples: the refit's too after cross-validation."""
    return configured_folds() + ([REFIT] if refit_after_cross_validation() else [])


def _split_nodes() -> Pipeline:
    """The track split, each fold's splits under cross-validation, and the refit's."""
    nodes = [
        Node(
            split_tracks,
            inputs=["track_table", "label_set", "params:feature_engineering", "params:seed"],
            outputs="track_splits",
            name="split_tracks",
        )
    ]
    for number, fold in enumerate(configured_folds(), start=1):
        if fold:
            nodes.append(
                Node(
                    update_wrapper(partial(split_fold, fold=number), split_fold),
                    inputs=["track_splits", "params:feature_engineering", "params:seed"],
                    outputs=fold_splits(fold),
                    name=f"split_{fold}",
                )
            )
    if refit_after_cross_validation():
        nodes.append(
            Node(
                split_all_tracks,
                inputs=["track_splits", "params:feature_engineering", "params:seed"],
                outputs=fold_splits(REFIT),
                name="split_all_tracks",
            )
        )
    return Pipeline(nodes)


def _feature_set_pipeline(feature_set: str) -> Pipeline:
    """Extraction in ``feature_set``'s namespace, then statistics and examples per fold."""
    parameters = {
        "params:feature_set": f"params:feature_engineering.feature_sets.{feature_set}",
        "params:sample_rate": "params:sample_rate",
        "params:feature_engineering.recompute_features": (
            "params:feature_engineering.recompute_features"
        ),
        "params:feature_engineering.executor": "params:feature_engineering.executor",
    }
    inputs = feature_set_inputs(feature_set)
    extraction = Pipeline(
        create_extraction_template(inputs),
        namespace=feature_set,
        inputs={"raw_clips", "raw_clip_stats", "track_splits", *inputs.values()},
        parameters=parameters,
    )
    return extraction + sum(
        (
            Pipeline(
                create_examples_template(),
                namespace=scoped(feature_set, fold),
                inputs={
                    "track_features": f"{feature_set}.track_features",
                    "track_splits": fold_splits(fold),
                    "label_set": "label_set",
                },
                parameters={
                    "params:feature_set": parameters["params:feature_set"],
                    "params:sample_rate": "params:sample_rate",
                },
            )
            for fold in example_folds()
        ),
        start=Pipeline([]),
    )


def create_pipeline(**kwargs) -> Pipeline:
    """Split by track, then featurise each track once per feature set the architectures read."""
    return _split_nodes() + sum(
        (_feature_set_pipeline(feature_set) for feature_set in configured_feature_sets()),
        start=Pipeline([]),
    )
