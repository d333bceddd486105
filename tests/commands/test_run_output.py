"""What `kedro run` prints off a terminal (CI): where each dataset went, and no progress bars."""

from __future__ import annotations

import re

import pytest

from gtzan_kedro.output_log import describe_target
from tests.conftest import TINY_RUN_EPOCHS, TinyRun


@pytest.mark.slow
def test_each_written_dataset_is_logged_with_its_path(tiny_run: TinyRun):
    features, modelling = tiny_run.logs["features"], tiny_run.logs["modelling"]

    assert "Wrote track_table -> data/02_intermediate/track_table.parquet" in features
    assert "Wrote raw_clips -> data/01_raw" in features
    assert (
        "Wrote log_mel.train_examples -> data/05_model_input/log_mel/train_examples.npy" in features
    )
    assert (
        "Wrote mfcc_stats.normalisation -> data/05_model_input/mfcc_stats/normalisation.json"
        in features
    )
    assert "Wrote mlp.confusion_matrix -> data/08_reporting/mlp/confusion_matrix.png" in modelling
    assert "Wrote mlp.mlflow_metrics -> the MLflow run" in modelling
    assert "Wrote mlp.genre_classifier -> data/06_models/mlp" in modelling
    assert "Wrote mlp.untrained_model" not in modelling  # kept in memory
    assert re.search(r"Pipeline '\w+\+\w+' wrote \d+ datasets", features)


# A log record as conf/logging.yml prints it: time, level, logger, message, on one line.
RECORD = re.compile(r"^\d\d:\d\d:\d\d (?P<level>[A-Z]+) +(?P<logger>[\w.]+): (?P<message>.*)$")
# Warnings the project itself used to cause on every run: MLflow's about pickled models
# (now logged from code) and the project's own about the 1-s example clip of each model.
PROJECT_WARNINGS = ("CloudPickle", "shorter than one window")


@pytest.mark.slow
def test_each_record_is_printed_once_on_one_line_without_warnings_the_project_causes(
    tiny_run: TinyRun,
):
    for name, output in tiny_run.logs.items():
        lines = output.splitlines()
        records = [match for line in lines if (match := RECORD.match(line))]
        messages = {record["message"] for record in records}

        assert len(records) > 10, f"{name}: no log records in the format of conf/logging.yml"
        # A record printed again by a second handler (tqdm's), without time and level.
        assert not messages & {line.strip() for line in lines}, name
        # Off a terminal a long record stays one line (Rich wrapped them at 80 columns).
        assert any(len(line) > 120 for line in lines if RECORD.match(line)), name
        for warning in PROJECT_WARNINGS:
            assert warning not in output, f"{name}: {warning!r} in the output"
        # No progress bar of MLflow's ("Uploading artifacts: 100%|...").
        assert not re.search(r"(Downloading|Uploading) artifacts", output), name
    assert any(
        record["message"].startswith(
            "Wrote log_mel.train_examples -> data/05_model_input/log_mel/train_examples.npy"
        )
        for record in map(RECORD.match, tiny_run.logs["features"].splitlines())
        if record
    )


@pytest.mark.slow
def test_no_progress_bars_off_a_terminal(tiny_run: TinyRun):
    output = "\n".join(tiny_run.logs.values())

    # tqdm's bars ("Writing clips:  40%|####  | 16/40 [...]") are disabled off a terminal.
    assert not re.search(r"(Writing clips|log_mel features|mfcc_stats features): +\d+%", output)
    # One line per epoch instead of Keras' bar, naming the model (two may train at once).
    assert re.search(rf"mlp: epoch 1/{TINY_RUN_EPOCHS} - [\d.]+ s - ", tiny_run.logs["modelling"])
    assert "━" not in tiny_run.logs["modelling"]


def test_memory_datasets_have_no_target():
    from kedro.io import MemoryDataset  # noqa: PLC0415

    assert describe_target(MemoryDataset()) is None
    assert describe_target(object()) is None
