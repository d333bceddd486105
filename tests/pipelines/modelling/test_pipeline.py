"""Wiring of the modelling pipeline and the MLflow run name."""

from __future__ import annotations

from types import SimpleNamespace

from gtzan_kedro.hooks import RunNameHook, run_name
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
