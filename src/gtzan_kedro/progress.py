"""Progress bars of long loops: drawn on a terminal only, log records printed above them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from tqdm.auto import tqdm
from tqdm.contrib.logging import logging_redirect_tqdm


@contextmanager
def progress_bar(**options: Any) -> Iterator[tqdm]:
    """A tqdm bar (``options`` as tqdm's) that is drawn only when the output is a terminal.

    While it is drawn, the console's log handler (conf/logging.yml) prints above the bar
    rather than through it. Off a terminal (CI logs, files) nothing is redirected, so no
    handler is added and no record is printed twice.
    """
    with tqdm(disable=None, **options) as bar:
        if bar.disable:
            yield bar
        else:
            with logging_redirect_tqdm():
                yield bar
