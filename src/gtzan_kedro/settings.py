"""Project settings: see https://docs.kedro.org/en/stable/configure/configuration_basics/."""

import os
import sys

from kedro.config import OmegaConfigLoader

from gtzan_kedro.hooks import MlflowRunHook, ParameterValidationHook
from gtzan_kedro.output_log import OutputLogHook
from gtzan_kedro.project_path import ProjectPathHook, project_root
from gtzan_kedro.viz_offline import keep_kedro_viz_offline

# kedro-mlflow registers its own hook as a plugin. ParameterValidationHook checks the
# parameters before anything runs, MlflowRunHook names and tags the run kedro-mlflow starts,
# and OutputLogHook logs where each dataset a run writes ends up. ProjectPathHook points
# `${project_root:}` at the session's project.
HOOKS = (ProjectPathHook(), ParameterValidationHook(), MlflowRunHook(), OutputLogHook())

# In `kedro viz`'s server process: no update check against PyPI (see viz_offline.py).
keep_kedro_viz_offline()

# MLflow draws a progress bar for every model it logs or loads; off a terminal (CI logs,
# files) each is a screenful of carriage returns. Set the variable to choose otherwise.
if not sys.stderr.isatty():
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")

CONFIG_LOADER_CLASS = OmegaConfigLoader
CONFIG_LOADER_ARGS = {
    "base_env": "base",
    "default_run_env": "local",
    # An environment (conf/local, conf/gtzan) overrides single keys, not whole top-level blocks.
    "merge_strategy": {"parameters": "soft"},
    # `${project_root:}`: the root of the project the command runs in (never where the package
    # is installed), for paths that must not depend on the folder a command runs in (the
    # MLflow store).
    "custom_resolvers": {"project_root": lambda: str(project_root())},
}
