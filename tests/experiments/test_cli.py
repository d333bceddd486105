"""`kedro queue run` and `kedro queue status` as typed in a shell, in a project copy."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from tests.commands.conftest import run_command
from tests.experiments.conftest import CODE_VERSION, TINY_TRAINING

QUEUE = {
    "name": "cli",
    "defaults": {"pipelines": "modelling", "namespaces": ["mlp"], "overrides": TINY_TRAINING},
    "experiments": [
        {"name": "good"},
        {"name": "typo", "overrides": {"modelling.architectures.mlp.modle.units": [8]}},
    ],
}


@pytest.mark.slow
def test_queue_run_prints_the_summary_and_status_shows_each_state(queue_project: Path):
    queue_file = queue_project / "conf" / "base" / "experiments" / "cli.yml"
    queue_file.write_text(yaml.safe_dump(QUEUE))
    pinned = ("--code-version", CODE_VERSION)

    ran = run_command("kedro", "queue", "run", str(queue_file), *pinned, cwd=queue_project)
    status = run_command("kedro", "queue", "status", str(queue_file), *pinned, cwd=queue_project)

    # One experiment failed: exit code 1, after the whole queue ran.
    assert ran.returncode == 1, ran.stdout + ran.stderr[-3000:]
    assert "Failed: typo; rerun the queue to retry them." in ran.stderr
    assert "# Queue 'cli': track_accuracy, best first" in ran.stdout
    assert re.search(r"^\| good +\| done +\|", ran.stdout, re.MULTILINE)
    assert "Unknown parameter modelling.architectures.mlp.modle" in ran.stdout
    assert status.returncode == 0, status.stderr[-3000:]
    assert re.search(r"^\| good +\| done +\|", status.stdout, re.MULTILINE)
    assert re.search(r"^\| typo +\| failed +\|", status.stdout, re.MULTILINE)


@pytest.mark.slow
def test_a_broken_queue_file_is_an_error_message(project_copy: Path):
    queue_file = project_copy / "broken.yml"
    queue_file.write_text("experiments: []\n")

    result = run_command("kedro", "queue", "status", str(queue_file), cwd=project_copy)

    assert result.returncode == 1
    assert "Error: " in result.stderr
    assert "'experiments' must be a non-empty list" in result.stderr
    assert "Traceback" not in result.stderr
