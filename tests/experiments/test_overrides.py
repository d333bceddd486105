"""Overrides are checked against the parameters' schema before an experiment's session starts."""

from __future__ import annotations

import pytest

from gtzan_kedro.errors import InputError
from gtzan_kedro.experiments.overrides import check_overrides, nest
from tests.conftest import PROJECT_ROOT


@pytest.fixture(scope="module")
def parameters() -> dict:
    """The project's own parameters, as a run without overrides sees them."""
    from kedro.config import OmegaConfigLoader  # noqa: PLC0415

    from gtzan_kedro import settings  # noqa: PLC0415

    loader = OmegaConfigLoader(str(PROJECT_ROOT / "conf"), **settings.CONFIG_LOADER_ARGS)
    return loader["parameters"]


@pytest.mark.parametrize(
    "overrides",
    [
        {"modelling.architectures.lstm.model.units": 128},
        {"modelling.architectures.lstm.model.dropout": 0},  # an int where a float is configured
        {"modelling.architectures.svm.model.gamma": 0.01},  # text settings that take numbers
        {"modelling.architectures.mlp.model.units": [256]},
        {"modelling.architectures.lstm.training.epochs": 3},  # absent from the block: merged
        {"feature_engineering.feature_sets.log_mel.window.frames": 64},
        {"feature_engineering.recompute_features": True},
        {"modelling.architectures.lstm.model": {"units": 32}},  # merged key by key
        {"seed": 1},
    ],
)
def test_valid_overrides_pass(overrides: dict, parameters: dict):
    check_overrides(overrides, parameters)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"modelling.architectures.lstm.model.unit": 128},
            "Unknown parameter modelling.architectures.lstm.model.unit: remove it or check its "
            "spelling. (build_recurrent takes: cell, bidirectional, units, dropout, pooling, "
            "normalise)",
        ),
        ({"lsmt": {"model": {"units": 1}}}, "Unknown parameter lsmt"),
        (
            {"modelling.architectures.lstm.model.units": "many"},
            "Invalid parameter modelling.architectures.lstm.model.units='many'",
        ),
        ({"modelling.training.epochs": -1}, "Invalid parameter modelling.training.epochs=-1"),
        ({"modelling.training.epochs": 2.5}, "modelling.training.epochs=2.5"),
        ({"modelling.architectures.svm.model.C": -1}, "modelling.architectures.svm.model.C=-1"),
        (
            {"modelling.architectures.mlp.model.units": 256},
            "modelling.architectures.mlp.model.units",
        ),
        (
            {"modelling.architectures.lstm.builder": "nosuch"},
            "Invalid parameter modelling.architectures.lstm.builder='nosuch': use one of",
        ),
        ({"feature_engineering.split.test_size": 1.5}, "feature_engineering.split.test_size=1.5"),
    ],
)
def test_invalid_overrides_fail_naming_the_parameter(overrides: dict, message: str, parameters):
    with pytest.raises(InputError) as error:
        check_overrides(overrides, parameters)

    assert message in str(error.value)
    assert "\n" not in str(error.value)


def test_dotted_keys_nest_as_kedro_takes_runtime_parameters():
    assert nest({"lstm.model.units": 128, "lstm.model.dropout": 0.1, "seed": 1}) == {
        "lstm": {"model": {"units": 128, "dropout": 0.1}},
        "seed": 1,
    }
