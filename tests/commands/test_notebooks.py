"""The notebooks run top to bottom against a project after `kedro run`, and are stored clean."""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from tests.commands.conftest import TinyRun
from tests.conftest import PROJECT_ROOT

NOTEBOOKS = sorted((PROJECT_ROOT / "notebooks").glob("*.ipynb"))


def execute(notebook: Path, project: Path) -> nbformat.NotebookNode:
    """Execute a copy of ``notebook`` in the project's notebooks/ folder and return it."""
    copy = project / "notebooks" / notebook.name
    copy.parent.mkdir(exist_ok=True)
    shutil.copy(notebook, copy)
    executed = nbformat.read(copy, as_version=4)
    client = NotebookClient(
        executed,
        timeout=300,
        kernel_name="python3",
        resources={"metadata": {"path": str(copy.parent)}},
    )
    client.execute()
    return executed


def images(notebook: nbformat.NotebookNode) -> int:
    """How many images the notebook's cells displayed."""
    return sum(
        "image/png" in output.get("data", {})
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.outputs
    )


def test_both_notebooks_exist():
    assert [notebook.name for notebook in NOTEBOOKS] == [
        "01_data_exploration.ipynb",
        "02_model_comparison.ipynb",
    ]


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda path: path.stem)
def test_notebooks_are_stored_without_outputs(notebook: Path):
    cells = nbformat.read(notebook, as_version=4).cells

    for cell in cells:
        if cell.cell_type == "code":
            assert cell.outputs == [], f"{notebook.name}: clear the outputs before committing"
            assert cell.execution_count is None, f"{notebook.name}: clear the execution counts"


@pytest.mark.slow
def test_data_exploration_notebook_runs(tiny_run: TinyRun):
    executed = execute(PROJECT_ROOT / "notebooks" / "01_data_exploration.ipynb", tiny_run.project)

    # The class-distribution bar chart and the one figure of every genre's example.
    assert images(executed) == 2


@pytest.mark.slow
def test_model_comparison_notebook_runs(tiny_run: TinyRun):
    executed = execute(PROJECT_ROOT / "notebooks" / "02_model_comparison.ipynb", tiny_run.project)

    printed = "".join(
        output.get("text", "")
        for cell in executed.cells
        if cell.cell_type == "code"
        for output in cell.outputs
    )
    assert "Run 'modelling[mlp,svm] stratified'" in printed
    assert ": mlp, svm" in printed
    assert "Reporting run 'reporting stratified'" in printed
    # Training curves, confusion matrices, reliability diagrams and the map of the test tracks.
    assert images(executed) == 4
