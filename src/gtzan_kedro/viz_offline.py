"""kedro-viz without its PyPI update check: the project pins kedro-viz and works offline."""

from __future__ import annotations

import sys
from typing import Any


def keep_kedro_viz_offline() -> None:
    """Make a loaded kedro-viz take its installed version for the latest instead of asking PyPI.

    kedro-viz asks PyPI at start-up (``kedro viz``) and on every page load (``/api/version``);
    offline, its page then announces "Kedro-Viz None is here!". Does nothing unless kedro-viz
    is loaded, so that other commands do not import it. kedro-viz 12.5 has no public switch
    for the check, so this replaces its function, and pyproject.toml pins kedro-viz's minor
    version: check for a switch (or a changed function) before widening that pin.
    """
    if "kedro_viz" not in sys.modules:
        return
    import kedro_viz.integrations.pypi  # noqa: PLC0415
    from kedro_viz import __version__  # noqa: PLC0415
    from packaging.version import parse  # noqa: PLC0415

    installed = parse(__version__)

    def installed_version() -> Any:
        """The installed kedro-viz version, reported as the latest one."""
        return installed

    kedro_viz.integrations.pypi.get_latest_version = installed_version
    # The /api/version response imported the function by name before this ran.
    version_response = sys.modules.get("kedro_viz.api.rest.responses.version")
    if version_response is not None:
        version_response.get_latest_version = installed_version
