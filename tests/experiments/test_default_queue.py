"""The default queue (conf/base/experiments/default.yml) matches the project's configuration,
and Kedro never reads queue files as configuration."""

from __future__ import annotations

from pathlib import Path

from kedro.config import OmegaConfigLoader

from gtzan_kedro.experiments.cli import DEFAULT_QUEUE
from gtzan_kedro.experiments.overrides import check_overrides
from gtzan_kedro.experiments.queue_file import load_queue
from gtzan_kedro.settings import CONFIG_LOADER_ARGS
from tests.conftest import PROJECT_ROOT

PIPELINES = {path.name for path in (PROJECT_ROOT / "src" / "gtzan_kedro" / "pipelines").iterdir()}


def config_loader(conf: Path) -> OmegaConfigLoader:
    """The project's loader, with the pattern kedro-mlflow adds for mlflow.yml."""
    loader = OmegaConfigLoader(conf_source=str(conf), **CONFIG_LOADER_ARGS)
    loader.config_patterns["mlflow"] = ["mlflow*", "mlflow*/**", "**/mlflow*"]
    return loader


def test_the_default_queue_overrides_existing_parameters_with_their_types():
    queue = load_queue(PROJECT_ROOT / DEFAULT_QUEUE)
    parameters = config_loader(PROJECT_ROOT / "conf")["parameters"]

    assert queue.name == "default"
    for experiment in queue.experiments:
        check_overrides(experiment.overrides, parameters)
        assert set(experiment.pipelines) <= PIPELINES
        blocks = parameters["modelling"]["architectures"]
        architectures = {name: block["features"] for name, block in blocks.items()}
        # Architectures, and the feature sets they read so that their examples are remade.
        assert set(experiment.namespaces) <= set(architectures) | set(architectures.values())
        for name in set(experiment.namespaces) & set(architectures):
            assert architectures[name] in experiment.namespaces


def test_kedro_reads_no_queue_file_as_configuration():
    # Top-level keys of the default queue, and of a queue file named like no config pattern.
    queue_keys = {"experiments", "defaults", "metric", "greater_is_better", "name"}
    loader = config_loader(PROJECT_ROOT / "conf")

    for key in ("parameters", "catalog", "globals", "mlflow"):
        assert not queue_keys & set(loader[key]), key
