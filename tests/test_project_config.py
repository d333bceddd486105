"""The pipelines' shape comes from the session's parameters and is built once per process."""

from __future__ import annotations

from pathlib import Path

import pytest
from kedro.framework.project import pipelines
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project

from gtzan_kedro.errors import InputError
from tests.conftest import PROJECT_ROOT, copy_project

KFOLD = {"feature_engineering": {"split": {"strategy": "kfold", "folds": 3}}}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project copy with two architectures; Kedro's pipelines not built yet."""
    project = copy_project(PROJECT_ROOT, tmp_path, architectures=("mlp", "svm"))
    bootstrap_project(project)  # what a new `kedro` process does
    return project


def namespaces(name: str) -> set[str]:
    """The namespaces of the registered pipeline ``name``."""
    return {node.namespace for node in pipelines[name].nodes if node.namespace}


def test_the_session_parameters_decide_the_folds_and_architectures(project: Path):
    extra = {"modelling": {"architectures": {"mlp2": {"builder": "mlp", "features": "log_mel"}}}}
    runtime_params = KFOLD | extra

    with KedroSession.create(project_path=project, runtime_params=runtime_params) as session:
        session.load_context()

    assert {"mlp.fold_1", "mlp.fold_3", "mlp2.fold_2"} <= namespaces("modelling")
    assert "log_mel.fold_3" in namespaces("feature_engineering")


def test_a_later_session_of_another_shape_stops_with_one_line(project: Path):
    with KedroSession.create(project_path=project) as session:
        session.load_context()  # builds the pipelines for the holdout split of conf/
    assert "mlp" in namespaces("modelling")

    with (
        pytest.raises(
            InputError, match=r"^This process built its pipelines for other folds "
        ) as error,
        KedroSession.create(project_path=project, runtime_params=KFOLD) as session,
    ):
        session.run()

    assert "\n" not in str(error.value)
    assert not any((project / "data" / "01_raw").iterdir())  # nothing ran
