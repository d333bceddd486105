"""`kedro run` with bad input ends with the problem and what to do, not a traceback."""

from pathlib import Path

import pytest

from tests.commands.conftest import run_command


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (
            "ingestion.source=kaggle",
            "Error: Invalid parameter ingestion.source='kaggle': input should be 'generated', 'local' or 'download'.",
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
