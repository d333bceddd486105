"""`kedro run` with bad input ends with the problem and what to do, not a traceback."""

import re
from pathlib import Path

import pytest

from tests.commands.conftest import run_command
from tests.conftest import tone


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (
            "ingestion.source=kaggle",
            "Error: Invalid parameter ingestion.source='kaggle': use one of download, fma, generated, local.",
        ),
        (
            "ingestion.source=local,ingestion.local_path=/nowhere/gtzan",
            "ingestion.local_path",
        ),
    ],
)
def test_bad_parameters_end_with_one_clear_error(project_copy: Path, params: str, message: str):
    result = run_command(
        "kedro", "run", "--pipeline", "ingestion", "--params", params, cwd=project_copy
    )

    assert result.returncode == 1
    last_line = result.stderr.strip().splitlines()[-1]
    assert last_line.startswith("Error: ") and message in result.stderr
    assert "Traceback" not in result.stderr and "╭─" not in result.stderr


def garbage_store(project: Path) -> list[str]:
    (project / "mlflow.db").write_bytes(b"not sqlite at all " * 200)
    return []


def no_conf_local(project: Path) -> list[str]:
    (project / "conf" / "local").rmdir()
    return []


def unknown_env(project: Path) -> list[str]:
    return ["--env", "nosuch"]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("break_project", "message"),
    [
        (garbage_store, r"Error: The MLflow store '.*/mlflow\.db' is damaged \(file is not a "),
        (no_conf_local, r"Error: The configuration folder .*/conf/local is missing: create it"),
        (unknown_env, r"Error: Unknown environment 'nosuch' \(--env\): there is no folder "),
    ],
)
def test_a_broken_project_ends_with_one_line_naming_what_to_fix(
    project_copy: Path, break_project, message: str
):
    options = break_project(project_copy)

    result = run_command("kedro", "run", "--pipelines", "ingestion", *options, cwd=project_copy)

    assert result.returncode == 1
    assert re.match(message, result.stderr.strip().splitlines()[-1]), result.stderr[-3000:]
    assert "Traceback" not in result.stderr and "╭─" not in result.stderr
    assert "file store" not in result.stderr  # MLflow's deprecation, which points elsewhere


def test_a_collection_of_one_label_ends_with_one_line_naming_it(
    project_copy: Path, tmp_path: Path, write_clip
):
    for index in range(3):
        write_clip(tmp_path / "music" / "solo" / f"take{index}.wav", tone(220.0 + index, 1.0))
    params = f"ingestion.source=local,ingestion.local_path={tmp_path / 'music'}"

    result = run_command(
        "kedro", "run", "--pipeline", "ingestion", "--params", params, cwd=project_copy
    )

    assert result.returncode == 1
    last_line = result.stderr.strip().splitlines()[-1]
    assert last_line.startswith("Error: The collection in 'data/01_raw/gtzan' has 1 label (solo)")
    assert "a classifier needs at least two" in last_line
    assert "Traceback" not in result.stderr
