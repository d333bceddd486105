"""Project hooks."""

from __future__ import annotations

import logging
from typing import Any

from kedro.framework.context import KedroContext
from kedro.framework.hooks import hook_impl

from gtzan_kedro.parameters import validate_parameters
from gtzan_kedro.project_config import use_session_parameters

logger = logging.getLogger(__name__)


class RunNameHook:
    """Name each MLflow run after what ran: ``modelling``, ``modelling[lstm,gru]``, ``__default__``.

    kedro-mlflow names a run after its pipelines only, so runs of different namespaces of
    one pipeline would look alike. A name set in ``mlflow.yml`` (``tracking.run.name``) wins.
    kedro-mlflow re-reads its configuration for every session, so the name never leaks from
    one run into the next.
    """

    def __init__(self) -> None:
        self._context: KedroContext | None = None

    @hook_impl
    def after_context_created(self, context: KedroContext) -> None:
        """Keep the context: kedro-mlflow stores its configuration on it."""
        self._context = context

    @hook_impl(tryfirst=True)
    def before_pipeline_run(self, run_params: dict[str, Any]) -> None:
        """Set the run name before kedro-mlflow starts the run with it."""
        run_options = _mlflow_run_options(self._context)
        if run_options is None or run_options.name is not None:
            return
        run_options.name = run_name(run_params.get("pipeline_names"), run_params.get("namespaces"))
        # Not Rich markup: the brackets of "modelling[lstm,gru]" would vanish from the console.
        logger.info("MLflow run name: '%s'.", run_options.name, extra={"markup": False})


def run_name(pipeline_names: list[str] | None, namespaces: list[str] | None) -> str:
    """``pipeline[+pipeline][namespace,...]``, e.g. ``modelling[lstm,gru]``."""
    name = "+".join(pipeline_names or ["__default__"])
    return f"{name}[{','.join(namespaces)}]" if namespaces else name


def _mlflow_run_options(context: KedroContext | None) -> Any:
    """kedro-mlflow's run options stored on the context, or ``None`` without kedro-mlflow."""
    mlflow_config = getattr(context, "mlflow", None)
    return mlflow_config.tracking.run if mlflow_config is not None else None


class ParameterValidationHook:
    """Check every parameter when the run starts, before any node runs."""

    @hook_impl
    def after_context_created(self, context: KedroContext) -> None:
        """Validate the run's parameters (configuration and ``--params``) against the schema."""
        validate_parameters(context.params)
        use_session_parameters(context.params)
