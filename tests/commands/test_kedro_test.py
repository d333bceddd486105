"""`kedro test`: the project's pytest suite, extra arguments passed through, pytest's exit code."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.commands.conftest import run_command

SAMPLE_TESTS = """
def test_passes():
    assert True


def test_fails():
    assert False
"""


@pytest.mark.slow
def test_kedro_test_passes_arguments_to_pytest_and_exits_with_its_code(plain_project: Path):
    (plain_project / "tests").mkdir()
    (plain_project / "tests" / "test_sample.py").write_text(SAMPLE_TESTS)

    passing = run_command(
        "kedro", "test", "-k", "passes", "-x", "-p", "no:cacheprovider", cwd=plain_project
    )
    failing = run_command(
        "kedro", "test", "-k", "fails", "-x", "-p", "no:cacheprovider", cwd=plain_project
    )

    assert passing.returncode == 0, passing.stdout + passing.stderr
    assert "1 passed, 1 deselected" in passing.stdout
    assert failing.returncode == 1, failing.stdout + failing.stderr
    assert "1 failed, 1 deselected" in failing.stdout
