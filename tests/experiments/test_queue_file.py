"""Queue files: defaults, grid expansion, and errors that name the entry at fault."""

from __future__ import annotations

from pathlib import Path

import pytest

from gtzan_kedro.experiments.queue_file import (
    DEFAULT_PIPELINES,
    Experiment,
    QueueFileError,
    load_queue,
    parse_queue,
)


def test_experiments_start_from_the_defaults_and_override_them(tmp_path: Path):
    path = tmp_path / "tuning.yml"
    path.write_text(
        """
defaults:
  pipelines: [feature_engineering, modelling]
  namespaces: [lstm]
  overrides:
    modelling.training.epochs: 5
    lstm.model.units: 64
experiments:
  - name: baseline
  - name: wide
    namespaces: gru
    overrides:
      lstm.model.units: 128
"""
    )

    queue = load_queue(path)

    assert queue.name == "tuning"  # the file's stem
    assert queue.metric == "track_accuracy"
    assert queue.greater_is_better
    assert queue.experiments == (
        Experiment(
            "baseline",
            {"modelling.training.epochs": 5, "lstm.model.units": 64},
            ("feature_engineering", "modelling"),
            ("lstm",),
        ),
        Experiment(
            "wide",
            {"modelling.training.epochs": 5, "lstm.model.units": 128},
            ("feature_engineering", "modelling"),
            ("gru",),
        ),
    )


def test_without_pipelines_or_namespaces_an_experiment_runs_the_default_pipeline():
    queue = parse_queue({"name": "q", "experiments": [{"name": "all"}]}, default_name="x")

    assert queue.name == "q"
    assert queue.experiments == (Experiment("all", {}, DEFAULT_PIPELINES, None),)


def test_a_grid_expands_into_every_combination_with_named_experiments():
    queue = parse_queue(
        {
            "metric": "lstm.val_loss",
            "greater_is_better": False,
            "experiments": [
                {
                    "name": "sweep",
                    "overrides": {"lstm.model.dropout": 0.1},
                    "grid": {
                        "lstm.model.units": [64, 128],
                        "feature_engineering.feature_sets.log_mel.window.frames": [128, 256],
                    },
                },
                # Keys with the same last part keep their whole name.
                {"name": "units", "grid": {"lstm.model.units": [32], "gru.model.units": [[1]]}},
            ],
        },
        default_name="sweeps",
    )

    assert [experiment.name for experiment in queue.experiments] == [
        "sweep[units=64,frames=128]",
        "sweep[units=64,frames=256]",
        "sweep[units=128,frames=128]",
        "sweep[units=128,frames=256]",
        "units[lstm.model.units=32,gru.model.units=[1]]",
    ]
    assert queue.experiments[3].overrides == {
        "lstm.model.dropout": 0.1,
        "lstm.model.units": 128,
        "feature_engineering.feature_sets.log_mel.window.frames": 256,
    }
    assert (queue.metric, queue.greater_is_better) == ("lstm.val_loss", False)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ({"experiments": []}, "'experiments' must be a non-empty list"),
        ({"experiments": [{"overrides": {}}]}, "experiment 1: every experiment needs a 'name'"),
        ({"experiments": [{"name": "a"}, {"name": "a"}]}, "unique, repeated: ['a']"),
        ({"experiments": [{"name": "a", "overides": {}}]}, "unknown field(s) ['overides']"),
        ({"experment": []}, "unknown field(s) ['experment']"),
        (
            {"experiments": [{"name": "a", "grid": {"lstm.model.units": 64}}]},
            "grid values of 'lstm.model.units' must be a non-empty list",
        ),
        (
            {"experiments": [{"name": "a", "overrides": ["lstm.model.units=64"]}]},
            "'overrides' must map dotted parameter keys to values",
        ),
        (
            {"experiments": [{"name": "a", "pipelines": []}]},
            "'pipelines' must be a name or a non-empty list",
        ),
        (
            {
                "experiments": [
                    {"name": "a", "overrides": {"x.y": 1}, "grid": {"x.y": [1, 2]}},
                ]
            },
            "both in 'grid' and in 'overrides'",
        ),
        ({"greater_is_better": "yes", "experiments": [{"name": "a"}]}, "true or false"),
    ],
)
def test_a_broken_queue_file_fails_naming_the_entry(content: dict, message: str):
    with pytest.raises(QueueFileError) as error:
        parse_queue(content, default_name="broken", source="broken.yml")

    assert message in str(error.value)
    assert str(error.value).startswith("broken.yml")


def test_invalid_yaml_names_the_file(tmp_path: Path):
    path = tmp_path / "queue.yml"
    path.write_text("experiments: [name: a\n")

    with pytest.raises(QueueFileError, match="queue.yml is not valid YAML"):
        load_queue(path)
