"""The root of the project a command runs in: what ``${project_root:}`` in ``conf/`` means.

Never the folder the package is installed in: a project whose virtual environment has the
package from a wheel, or from another checkout, tracks into its own ``mlflow.db``. A session
knows its project (Kedro's ``project_path``); before one starts, the Kedro project at or
above the working directory is the one a command runs in.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kedro.framework.hooks import hook_impl
from kedro.utils import find_kedro_project

from gtzan_kedro.errors import InputError, missing_folder_error

_session_project: Path | None = None


def project_root() -> Path:
    """The running session's project, else the Kedro project at or above the working folder."""
    if _session_project is not None:
        return _session_project
    found = find_kedro_project(Path.cwd())
    if found is None:
        raise InputError(
            f"No Kedro project at or above {Path.cwd()}: run the command inside the project."
        )
    return Path(found)


def check_environment(loader: Any) -> None:
    """Refuse a configuration environment without its folder (``--env nosuch``, no conf/local).

    kedro-mlflow takes Kedro's error about a missing folder for a missing ``mlflow.yml`` and
    falls back to a file store that MLflow refuses: that message would point elsewhere.
    """
    conf = Path(loader.conf_source)
    chosen = loader.env
    for env in (loader.base_env, chosen or loader.default_run_env):
        if not env or (conf / env).is_dir():
            continue
        known = (
            sorted(path.name for path in conf.iterdir() if path.is_dir()) if conf.is_dir() else []
        )
        if env == chosen:
            raise InputError(
                f"Unknown environment '{env}' (--env): there is no folder {conf / env}; use one "
                f"of {', '.join(known) or '(none)'}, or create it."
            )
        raise missing_folder_error(str(conf / env))


class ProjectPathHook:
    """Make ``${project_root:}`` the session's project before any configuration is read."""

    @hook_impl(tryfirst=True)  # before kedro-mlflow's hook reads mlflow.yml
    def after_context_created(self, context: Any) -> None:
        """Remember the session's project path; check its configuration environment exists."""
        global _session_project  # noqa: PLW0603 - Kedro's resolvers get no context
        _session_project = Path(context.project_path).resolve()
        check_environment(context.config_loader)
