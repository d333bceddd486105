"""Wiring of the modelling pipeline."""

from __future__ import annotations

from gtzan_kedro.pipelines.modelling.architectures import ARCHITECTURES
from gtzan_kedro.pipelines.modelling.pipeline import SHARED_INPUTS, create_pipeline, create_template


def test_one_namespace_per_registered_architecture():
    pipeline = create_pipeline()
    template_nodes = {node.name for node in create_template().nodes}

    assert {node.namespace for node in pipeline.nodes} == set(ARCHITECTURES)
    for architecture in ARCHITECTURES:
        nodes = pipeline.only_nodes_with_namespaces([architecture]).nodes
        assert {node.name for node in nodes} == {
            f"{architecture}.{name}" for name in template_nodes
        }


def test_architectures_share_the_features_and_the_seed_but_not_their_parameters():
    inputs = create_pipeline().only_nodes_with_namespaces(["lstm"]).inputs()

    assert inputs == SHARED_INPUTS | {
        "params:seed",
        "params:lstm.architecture",
        "params:lstm.model",
        "params:lstm.training",
    }


def test_each_architecture_has_its_own_model_and_metrics():
    outputs = create_pipeline().all_outputs()

    for architecture in ARCHITECTURES:
        assert {
            f"{architecture}.model",
            f"{architecture}_test_metrics",
            f"{architecture}.mlflow_metrics",
            f"{architecture}.confusion_matrix",
        } <= outputs
