"""How inference is wired: the registered pipelines, the MLflow binding and the commands."""

from __future__ import annotations

from click.testing import CliRunner
from kedro.framework.project import configure_project
from kedro_mlflow.pipeline.pipeline_ml import PipelineML

from gtzan_kedro.__main__ import commands
from gtzan_kedro.pipeline_registry import register_pipelines
from gtzan_kedro.pipelines.inference import create_pipeline
from gtzan_kedro.pipelines.training import create_pipeline as create_training_pipeline


def test_training_binds_serving_to_what_the_training_run_writes():
    training = create_training_pipeline()
    serving_inputs = {
        name for name in training.inference.inputs() if not name.startswith("params:")
    }

    assert isinstance(training, PipelineML)
    assert training.input_name == "audio_requests"
    assert serving_inputs - {"audio_requests"} == {
        "normalisation_stats",
        "serving_model",
        "serving_model_card",
    }
    assert serving_inputs - {"audio_requests"} <= training.all_outputs()
    assert training.inference.outputs() == {"genre_probabilities"}
    assert training.log_model_kwargs["name"] == "genre_classifier"


def test_the_default_run_logs_the_serving_model_and_leaves_inference_out():
    configure_project("gtzan_kedro")  # loads every pipeline, as a plain `kedro run` does

    pipelines = register_pipelines()
    default_nodes = {node.name for node in pipelines["__default__"].nodes}

    assert isinstance(pipelines["__default__"], PipelineML)
    assert {"acquire_clips", "choose_serving_model"} <= default_nodes
    assert not default_nodes & {node.name for node in create_pipeline().nodes}
    assert {"inference", "training"} <= set(pipelines)


def test_inference_reads_the_files_the_models_and_the_training_statistics():
    assert {name for name in create_pipeline().inputs() if not name.startswith("params:")} == {
        "audio_files",
        "architecture_ranking",
        "trained_models",
        "normalisation_stats",
    }
    assert create_pipeline().outputs() == {"genre_predictions"}


def test_the_console_script_runs_kedro_run_and_predicts():
    runner = CliRunner()

    listed = runner.invoke(commands, ["--help"])
    run_help = runner.invoke(commands, ["run", "--help"])
    predict_help = runner.invoke(commands, ["predict", "--help"])

    assert listed.exit_code == 0 and {"run", "predict"} <= set(commands.commands)
    assert "--pipelines" in run_help.output and "--params" in run_help.output
    assert "--model" in predict_help.output and "--output" in predict_help.output
