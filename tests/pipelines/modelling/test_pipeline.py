"""Wiring of the modelling pipeline."""

from __future__ import annotations

from gtzan_kedro.pipelines.feature_engineering.pipeline import (
    create_pipeline as create_feature_pipeline,
)
from gtzan_kedro.pipelines.modelling.pipeline import create_pipeline
from gtzan_kedro.project_config import configured_architectures


def test_one_namespace_per_configured_architecture():
    pipeline = create_pipeline()

    assert {node.namespace for node in pipeline.nodes} == set(configured_architectures())
    for architecture in configured_architectures():
        nodes = {node.name for node in pipeline.only_nodes_with_namespaces([architecture]).nodes}
        assert {
            f"{architecture}.{name}"
            for name in ("build_model", "train_model", "package_classifier", "evaluate")
        } <= nodes


def test_each_architecture_reads_its_own_feature_set_and_parameters_block():
    pipeline = create_pipeline()

    lstm = pipeline.only_nodes_with_namespaces(["lstm"]).inputs()
    svm = pipeline.only_nodes_with_namespaces(["svm"]).inputs()

    assert {"log_mel.train_examples", "log_mel.normalisation", "log_mel.track_features"} <= lstm
    assert {"params:modelling.architectures.lstm", "params:modelling.training"} <= lstm
    assert not any(name.startswith("mfcc_stats.") for name in lstm)
    assert {"mfcc_stats.train_examples", "params:modelling.architectures.svm"} <= svm
    assert not any(name.startswith("log_mel.") for name in svm)
    # Nothing but its feature set, the label set, the track splits and parameters comes from
    # outside.
    assert all(
        name.startswith(("log_mel.", "params:")) or name in {"label_set", "track_splits"}
        for name in lstm
    )


def test_each_architecture_has_its_own_artefact_predictions_and_metrics():
    outputs = create_pipeline().all_outputs()

    for architecture in configured_architectures():
        assert {
            f"{architecture}.genre_classifier",
            f"{architecture}_track_predictions",
            f"{architecture}_test_metrics",
            f"{architecture}.mlflow_metrics",
            f"{architecture}.confusion_matrix",
        } <= outputs


def test_only_the_feature_sets_in_use_are_computed():
    namespaces = {node.namespace for node in create_feature_pipeline().nodes} - {None}

    # The configuration also declares `musicnn_mel`, which only fine-tuning reads.
    assert namespaces == set(configured_architectures().values())
    assert "musicnn_mel" not in namespaces
