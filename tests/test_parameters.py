"""Parameters are checked when a run starts: one line naming the parameter, before any node."""

from __future__ import annotations

import copy as copy_module
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project

from gtzan_kedro.errors import InputError
from gtzan_kedro.models.architectures import ARCHITECTURES
from gtzan_kedro.parameters import training_for, validate_parameters
from gtzan_kedro.pipelines.modelling.nodes import build_model, train_model
from tests.commands.conftest import run_command
from tests.pipelines.modelling.conftest import GTZAN_LABEL_SET, GTZAN_MODEL_INPUT


def session_params(project: Path, runtime_params: dict[str, Any]) -> dict[str, Any]:
    """The parameters a `kedro run --params ...` of the project copy would run with."""
    bootstrap_project(project)
    with KedroSession.create(project_path=project, runtime_params=runtime_params) as session:
        return session.load_context().params


def nested(dotted: str, value: Any) -> dict[str, Any]:
    """``{"a": {"b": value}}`` for ``"a.b"``, as Kedro takes `--params a.b=value`."""
    for part in reversed(dotted.split(".")):
        value = {part: value}
    return value


def test_the_shipped_configuration_is_valid(parameters):
    checked = validate_parameters(parameters)

    assert {block.builder for block in checked.modelling.architectures.values()} <= set(
        ARCHITECTURES
    )
    assert set(checked.feature_engineering.feature_sets) == {
        "log_mel",
        "mfcc_stats",
        "musicnn",
        "musicnn_mel",
        "musicnn_sequence",
        "musicnn_frames",
    }


SESSION_CASES = [
    ("modelling.training.epochs", -1, r"^Invalid parameter modelling\.training\.epochs=-1: "),
    (
        "modelling.architectures.svm.model.C",
        -1,
        r"^Invalid parameter modelling\.architectures\.svm\.model\.C=-1: .*build_svm takes",
    ),
    (
        "modelling.architectures.lstm.builder",
        "transformer",
        r"^Invalid parameter modelling\.architectures\.lstm\.builder='transformer': use one "
        r"of .*recurrent",
    ),
    (
        "modelling.architectures.lstm.model.unit",
        8,
        r"^Unknown parameter modelling\.architectures\.lstm\.model\.unit\b",
    ),
    (
        "feature_engineering.split.test_size",
        1.5,
        r"^Invalid parameter feature_engineering\.split\.test_size=1\.5: ",
    ),
]
OTHER_CASES = [
    # Reporting and ingestion: checked here only, not again by their nodes.
    ("reporting.baseline", "knn", r"^Invalid parameter reporting\.baseline='knn': use one of "),
    ("reporting.alpha", 5, r"^Invalid parameter reporting\.alpha=5: "),
    ("reporting.rank_by", ["accuracy"], r"^Invalid parameter reporting\.rank_by\.0='accuracy'"),
    ("reporting.chart_metrics", ["n_tracks"], r"^Invalid parameter reporting\.chart_metrics\.0="),
    ("reporting.bootstrap.resamples", 50, r"^Invalid parameter reporting\.bootstrap\.resamples=50"),
    (
        "ingestion.source",
        "kaggle",
        r"^Invalid parameter ingestion\.source='kaggle': .*download, fma, generated, local",
    ),
    ("ingestion.generator.clips_per_genre", 0, r"^Invalid parameter ingestion\.generator\."),
    ("ingestion.checks.silence_db", 3, r"^Invalid parameter ingestion\.checks\.silence_db=3: "),
    ("ingestion.sources", "local", r"^Unknown parameter ingestion\.sources\b"),
    ("modelling.trainig.epochs", 5, r"^Unknown parameter modelling\.trainig\b"),
    (
        "feature_engineering.split.strategy",
        "random",
        r"^Invalid parameter feature_engineering\.split\.strategy='random': ",
    ),
    (
        "modelling.architectures.svm.features",
        "chroma",
        r"^Invalid parameter modelling\.architectures\.svm\.features='chroma': use one of "
        r"log_mel, mfcc_stats",
    ),
    (
        "modelling.architectures.lstm.training.epochs",
        0,
        r"^Invalid parameter modelling\.architectures\.lstm\.training\.epochs=0: ",
    ),
    (
        "feature_engineering.feature_sets.log_mel.params.n_mel",
        32,
        r"^Unknown parameter feature_engineering\.feature_sets\.log_mel\.params\.n_mel\b",
    ),
    (
        "feature_engineering.feature_sets.log_mel.extractor",
        "chroma",
        r"^Invalid parameter feature_engineering\.feature_sets\.log_mel\.extractor='chroma'",
    ),
    # Valid by type but meaningless: zero bands, windows that skip frames.
    (
        "feature_engineering.feature_sets.log_mel.params.n_mels",
        0,
        r"^Invalid parameter feature_engineering\.feature_sets\.log_mel\.params\.n_mels=0: "
        r"input should be greater than 0\. \(log_mel takes",
    ),
    (
        "feature_engineering.feature_sets.mfcc_stats.params.n_mfcc",
        -3,
        r"^Invalid parameter feature_engineering\.feature_sets\.mfcc_stats\.params\.n_mfcc=-3",
    ),
    (
        "feature_engineering.feature_sets.mfcc_stats.params.window_hop",
        500,
        r"^Invalid parameter feature_engineering\.feature_sets\.mfcc_stats\.params\."
        r"window_hop=500: may not exceed window_frames=128\.$",
    ),
    (
        "feature_engineering.feature_sets.log_mel.params.hop_length",
        4096,
        r"^Invalid parameter feature_engineering\.feature_sets\.log_mel\.params\."
        r"hop_length=4096: may not exceed n_fft=2048\.$",
    ),
    (
        "feature_engineering.feature_sets.log_mel.window.hop",
        129,
        r"^Invalid parameter feature_engineering\.feature_sets\.log_mel\.window=.*"
        r"hop=129 may not exceed frames=128",
    ),
]


@pytest.mark.parametrize(("key", "value", "message"), SESSION_CASES)
def test_a_bad_parameter_stops_the_session_before_any_node_with_one_line(
    project_copy: Path, key: str, value: Any, message: str
):
    bootstrap_project(project_copy)

    with pytest.raises(InputError, match=message) as error:
        with KedroSession.create(
            project_path=project_copy, runtime_params=nested(key, value)
        ) as session:
            session.run(pipeline_names=["ingestion"])

    assert "\n" not in str(error.value)
    # Nothing ran: ingestion would have written clips and the track table.
    assert not any((project_copy / "data" / "01_raw").iterdir())
    assert not (project_copy / "data" / "02_intermediate" / "track_table.parquet").exists()


def with_override(parameters: dict[str, Any], key: str, value: Any) -> dict[str, Any]:
    """A deep copy of ``parameters`` with the dotted ``key`` set to ``value``."""
    copy = copy_module.deepcopy(parameters)
    *parents, last = key.split(".")
    level = copy
    for part in parents:
        level = level.setdefault(part, {})
    level[last] = value
    return copy


@pytest.mark.parametrize(("key", "value", "message"), OTHER_CASES)
def test_other_bad_parameters_name_the_parameter_in_one_line(
    parameters, key: str, value: Any, message: str
):
    with pytest.raises(InputError, match=message) as error:
        validate_parameters(with_override(parameters, key, value))

    assert "\n" not in str(error.value)


def test_validation_and_split_sizes_must_leave_training_tracks(parameters):
    split = parameters["feature_engineering"]["split"] | {"validation_size": 0.5, "test_size": 0.5}
    bad = {
        **parameters,
        "feature_engineering": {**parameters["feature_engineering"], "split": split},
    }

    with pytest.raises(InputError, match=r"feature_engineering\.split.*leave training tracks"):
        validate_parameters(bad)


@pytest.mark.slow
def test_kedro_run_with_a_bad_parameter_prints_one_error_line(project_copy: Path):
    result = run_command(
        "kedro", "run", "--params", "modelling.training.epochs=-1", cwd=project_copy, timeout=180
    )

    output = result.stdout + result.stderr
    assert result.returncode != 0
    errors = [line for line in output.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, output[-3000:]
    assert "modelling.training.epochs=-1" in errors[0]
    assert "Traceback" not in output


def test_training_defaults_reach_every_architecture_and_a_block_overrides_one(project_copy: Path):
    params = session_params(
        project_copy,
        {
            "modelling": {
                "training": {"epochs": 5},
                "architectures": {"lstm": {"training": {"epochs": 3}}},
            }
        },
    )
    defaults = params["modelling"]["training"]

    epochs = {
        name: training_for(defaults, block.get("training", {}), name)["epochs"]
        for name, block in params["modelling"]["architectures"].items()
    }

    assert epochs.pop("lstm") == 3
    assert set(epochs.values()) == {5} and len(epochs) >= 6
    assert training_for(defaults, {}, "gru")["batch_size"] == defaults["batch_size"]


def test_train_model_merges_the_blocks_training_over_the_defaults(tiny_splits_small):
    train, validation = tiny_splits_small
    block = {"builder": "mlp", "features": "log_mel", "model": {"units": [4], "dropout": 0.0}}
    defaults = {"epochs": 1, "batch_size": 8, "learning_rate": 0.001, "early_stopping_patience": 5}

    def epochs_trained(own_training: dict[str, Any]) -> int:
        architecture = block | {"training": own_training}
        model = build_model(train[0], GTZAN_MODEL_INPUT, GTZAN_LABEL_SET, architecture, seed=0)
        track_ids = np.arange(len(train[1])).astype(str)
        _, history = train_model(
            model, *train, track_ids, *validation, GTZAN_MODEL_INPUT, architecture, defaults, 0
        )
        return len(history["loss"])

    assert epochs_trained({}) == 1
    assert epochs_trained({"epochs": 3}) == 3


@pytest.fixture
def tiny_splits_small() -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Training and validation windows of 4 frames x 3 dims, labels 0 and 1."""
    rng = np.random.default_rng(0)
    examples = rng.standard_normal((16, 4, 3)).astype(np.float32)
    labels = np.arange(16) % 2
    return (examples[:12], labels[:12]), (examples[12:], labels[12:])


@pytest.fixture(scope="module")
def parameters() -> dict[str, Any]:
    """The parameters of conf/base, as a session reads them."""
    from kedro.config import OmegaConfigLoader  # noqa: PLC0415

    from tests.conftest import PROJECT_ROOT  # noqa: PLC0415

    loader = OmegaConfigLoader(
        conf_source=str(PROJECT_ROOT / "conf"), base_env="base", default_run_env="base"
    )
    return loader["parameters"]


def test_a_blocks_augmentation_is_merged_key_by_key_and_checked(parameters):
    defaults = validate_parameters(parameters).modelling.training.model_dump()
    defaults["augmentation"] |= {"time_masks": 2, "max_time_mask": 0.1}

    merged = training_for(defaults, {"augmentation": {"mixup_alpha": 0.2}}, "gru")

    assert merged["augmentation"]["mixup_alpha"] == 0.2
    assert merged["augmentation"]["time_masks"] == 2  # the defaults' other keys stay
    with pytest.raises(InputError, match=r"gru\.training\.schedule='linear'"):
        training_for(defaults, {"schedule": "linear"}, "gru")
    with pytest.raises(InputError, match=r"gru\.training\.augmentation\.max_time_mask=1\.5"):
        training_for(defaults, {"augmentation": {"max_time_mask": 1.5}}, "gru")
