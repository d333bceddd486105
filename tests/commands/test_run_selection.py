"""`kedro run` with an unknown pipeline or namespace names the known ones and writes nothing."""

from pathlib import Path

import pytest
import yaml

from tests.commands.conftest import run_command
from tests.conftest import PROJECT_ROOT

# The registered pipelines: one per package under pipelines/, and Kedro's __default__.
PIPELINES = sorted(
    ["__default__"]
    + [
        folder.name
        for folder in (PROJECT_ROOT / "src" / "gtzan_kedro" / "pipelines").iterdir()
        if (folder / "pipeline.py").exists()
    ]
)


def files_in(project: Path) -> set[Path]:
    """Every file of the project copy."""
    return {path for path in project.rglob("*") if path.is_file()}


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            ["--pipeline", "nosuch"],
            f"Error: Unknown pipeline 'nosuch': use one of {', '.join(PIPELINES)}.",
        ),
        (
            ["--pipelines", "ingestion,nosuch"],
            f"Error: Unknown pipeline 'nosuch': use one of {', '.join(PIPELINES)}.",
        ),
        (
            ["--pipeline", "modelling", "--namespaces", "svm,nosuch"],
            "Error: Unknown namespace 'nosuch' in pipeline 'modelling': use one of {architectures}.",
        ),
        (
            ["--pipeline", "ingestion", "--namespaces", "svm"],
            "Error: Unknown namespace 'svm' in pipeline 'ingestion': it has no namespaces.",
        ),
    ],
)
def test_unknown_names_end_with_one_line_listing_the_known_ones(
    project_copy: Path, options: list[str], message: str
):
    before = files_in(project_copy)
    # The modelling namespaces are the architectures of the project copy's own configuration.
    parameters = (project_copy / "conf" / "base" / "parameters_modelling.yml").read_text()
    architectures = sorted(yaml.safe_load(parameters)["modelling"]["architectures"])
    message = message.replace("{architectures}", ", ".join(architectures))

    result = run_command("kedro", "run", *options, cwd=project_copy)

    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == message, result.stderr[-3000:]
    assert "Traceback" not in result.stderr and "╭─" not in result.stderr
    assert files_in(project_copy) == before  # no MLflow store, no session files
