"""Wiring of the modelling pipeline and the MLflow run name."""

from __future__ import annotations

from types import SimpleNamespace

from gtzan_kedro.hooks import RunNameHook, run_name
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
    # Nothing but its feature set, the track splits and parameters comes from outside.
    assert all(name.startswith(("log_mel.", "params:")) or name == "track_splits" for name in lstm)


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

    assert namespaces == set(configured_architectures().values()) == {"log_mel", "mfcc_stats"}


def test_run_name_says_which_pipelines_and_namespaces_ran():
    assert run_name(None, None) == "__default__"
    assert run_name(["modelling"], None) == "modelling"
    assert run_name(["modelling"], ["lstm", "gru"]) == "modelling[lstm,gru]"
    assert run_name(["modelling", "reporting"], ["svm"]) == "modelling+reporting[svm]"


def mlflow_context(run_name_setting: str | None) -> SimpleNamespace:
    """A stand-in for a KedroContext on which kedro-mlflow stored its configuration."""
    return SimpleNamespace(
        mlflow=SimpleNamespace(tracking=SimpleNamespace(run=SimpleNamespace(name=run_name_setting)))
    )


def test_hook_names_the_run_before_kedro_mlflow_starts_it():
    hook, context = RunNameHook(), mlflow_context(None)

    hook.after_context_created(context)
    hook.before_pipeline_run({"pipeline_names": ["modelling"], "namespaces": ["lstm", "svm"]})

    assert context.mlflow.tracking.run.name == "modelling[lstm,svm]"


def test_a_run_name_set_in_mlflow_yml_wins():
    hook, context = RunNameHook(), mlflow_context("my-experiment")

    hook.after_context_created(context)
    hook.before_pipeline_run({"pipeline_names": ["modelling"], "namespaces": None})

    assert context.mlflow.tracking.run.name == "my-experiment"
