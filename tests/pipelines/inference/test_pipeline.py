"""How inference is wired: the registered pipelines, the model artefact and the commands."""

from __future__ import annotations

import click
from click.testing import CliRunner
from kedro.framework.project import configure_project

from gtzan_kedro.__main__ import commands
from gtzan_kedro.pipeline_registry import register_pipelines
from gtzan_kedro.pipelines.inference import create_pipeline


def test_the_default_run_trains_and_reports_and_leaves_inference_out():
    configure_project("gtzan_kedro")  # loads every pipeline, as a plain `kedro run` does

    pipelines = register_pipelines()
    default_nodes = {node.name for node in pipelines["__default__"].nodes}

    assert {"acquire_clips", "split_tracks", "mlp.train_model", "register_champion"} <= (
        default_nodes
    )
    assert not default_nodes & {node.name for node in create_pipeline().nodes}
    assert "inference" in pipelines


def test_inference_reads_only_the_files_and_the_model_artefact():
    # Nothing of conf/'s feature parameters or data/05_model_input: the artefact carries them.
    assert create_pipeline().inputs() == {"audio_files", "inference_classifier", "params:inference"}
    assert create_pipeline().all_outputs() == {
        "genre_predictions",
        "window_probabilities",
        "genre_timelines",
    }


def test_the_console_script_runs_kedro_run_and_predicts():
    runner = CliRunner()

    listed = runner.invoke(commands, ["--help"])
    run_help = runner.invoke(commands, ["run", "--help"])
    predict_help = runner.invoke(commands, ["predict", "--help"])

    # Listed as --help lists them: the group imports a command's module only when it runs.
    listed_names = commands.list_commands(click.Context(commands))
    assert listed.exit_code == 0 and {"run", "predict", "app"} <= set(listed_names)
    assert all(f"  {name} " in listed.output for name in ("run", "predict", "app"))
    assert "--pipelines" in run_help.output and "--params" in run_help.output
    assert "--model" in predict_help.output and "--output" in predict_help.output
    assert "champion" in predict_help.output
