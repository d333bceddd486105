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


@pytest.mark.slow
def test_no_progress_bars_off_a_terminal(tiny_run: TinyRun):
    output = "\n".join(tiny_run.logs.values())

    # tqdm's bars ("Writing clips:  40%|####  | 16/40 [...]") are disabled off a terminal.
    assert not re.search(r"(Writing clips|log_mel features|mfcc_stats features): +\d+%", output)
    # Keras prints one line per epoch instead of its bar.
    assert f"Epoch 1/{TINY_RUN_EPOCHS}" in tiny_run.logs["modelling"]
    assert "━" not in tiny_run.logs["modelling"]


def test_memory_datasets_have_no_target():
    from kedro.io import MemoryDataset  # noqa: PLC0415

    assert describe_target(MemoryDataset()) is None
    assert describe_target(object()) is None
