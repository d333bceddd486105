"""Overrides are checked against the project's parameters before a session starts."""

from __future__ import annotations

import pytest

from gtzan_kedro.experiments.overrides import InvalidOverrideError, check_overrides, nest

PARAMETERS = {
    "seed": 42,
    "feature_engineering": {"sequences": {"frames": 128, "hop": 64}, "recompute_log_mels": False},
    "ingestion": {"local_path": None},
    "lstm": {"model": {"units": 64, "dropout": 0.3}, "training": {"epochs": 20}},
    "mlp": {"model": {"units": [128, 64]}},
    "svm": {"model": {"gamma": "scale", "C": 10.0}},
}


@pytest.mark.parametrize(
    "overrides",
    [
        {"lstm.model.units": 128, "feature_engineering.sequences.frames": 256},
        {"lstm.model.dropout": 0},  # an int where a float is configured
        {"svm.model.C": 1},
        {"svm.model.gamma": 0.01},  # text settings that also take numbers
        {"mlp.model.units": [256]},
        {"feature_engineering.recompute_log_mels": True},
        {"ingestion.local_path": "/data/gtzan"},  # unset: anything goes
        {"lstm.model": {"units": 32}},  # merged key by key
        {"seed": 1},
    ],
)
def test_existing_keys_with_compatible_values_pass(overrides: dict):
    check_overrides(overrides, PARAMETERS)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"lstm.model.unit": 128},
            "Unknown parameter 'lstm.model.unit': there is no 'unit' under 'lstm.model' of the "
            "project's parameters. Did you mean 'lstm.model.units'?",
        ),
        ({"lsmt.model.units": 128}, "no 'lsmt' at the top level of the project's parameters"),
        ({"lstm.model.units.size": 1}, "no 'size' under 'lstm.model.units'"),
        ({"lstm.model": {"unit": 1}}, "Unknown parameter 'lstm.model.unit'"),
        (
            {"lstm.model.units": "128"},
            "Override 'lstm.model.units' must be an integer like its configured value 64, "
            "got str '128'.",
        ),
        ({"lstm.training.epochs": 2.5}, "'lstm.training.epochs' must be an integer"),
        ({"lstm.model.units": True}, "'lstm.model.units' must be an integer"),
        ({"feature_engineering.recompute_log_mels": 1}, "must be true or false"),
        ({"lstm.model.dropout": "high"}, "'lstm.model.dropout' must be a number"),
        ({"mlp.model.units": 256}, "'mlp.model.units' must be a list"),
        ({"lstm.model": 64}, "'lstm.model' must be a mapping"),
        ({"lstm.model": {"units": "x"}}, "'lstm.model.units' must be an integer"),
    ],
)
def test_unknown_keys_and_wrong_types_fail_naming_the_key(overrides: dict, message: str):
    with pytest.raises(InvalidOverrideError) as error:
        check_overrides(overrides, PARAMETERS)

    assert message in str(error.value)


def test_dotted_keys_nest_as_kedro_takes_runtime_parameters():
    assert nest({"lstm.model.units": 128, "lstm.model.dropout": 0.1, "seed": 1}) == {
        "lstm": {"model": {"units": 128, "dropout": 0.1}},
        "seed": 1,
    }
