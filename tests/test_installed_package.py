"""Installed from a wheel, the package serves the project it runs in, not its install folder."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from tests.commands.conftest import command_env
from tests.conftest import PROJECT_ROOT, copy_project


def fresh_venv_with_the_package(root: Path) -> Path:
    """A new virtual environment with the package installed from a copy of its sources (not
    editable); its dependencies are those of this environment, through a ``.pth`` file."""
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", venv], check=True)
    python = venv / "bin" / "python"
    site_packages = Path(
        subprocess.run(
            [python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    )
    # Only the dependencies: .pth files in that folder (the editable install) are not read.
    (site_packages / "dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    sources = root / "sources"
    shutil.copytree(PROJECT_ROOT / "src", sources / "src", ignore=shutil.ignore_patterns("*.pyc"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(PROJECT_ROOT / name, sources / name)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--target",
            site_packages,
            sources,
        ],
        check=True,
    )
    return python


@pytest.mark.slow
def test_a_wheel_install_tracks_into_the_store_of_the_project_it_runs_in(tmp_path: Path):
    python = fresh_venv_with_the_package(tmp_path)
    project = copy_project(PROJECT_ROOT, tmp_path)

    located = subprocess.run(
        [python, "-c", "import gtzan_kedro; print(gtzan_kedro.__file__)"],
        cwd=tmp_path,
        check=True,
        capture_output=True,
        text=True,
    )
    result = subprocess.run(
        [python, "-m", "kedro", "queue", "status"],
        cwd=project,
        env=command_env(),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    installed = Path(located.stdout.strip()).parent
    assert installed.is_relative_to(tmp_path / "venv"), installed
    assert result.returncode == 0, result.stderr[-3000:]
    with sqlite3.connect(project / "mlflow.db") as store:
        names = [row[0] for row in store.execute("select name from experiments")]
    assert "gtzan-kedro" in names
    # Nothing was written next to the installed package.
    assert not list((tmp_path / "venv").rglob("mlflow.db"))
