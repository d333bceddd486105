"""One ``kedro queue run`` per queue at a time: a lock file holding its owner's process id."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psutil

from gtzan_kedro.errors import InputError

logger = logging.getLogger(__name__)

# A process's start time is known to about a second.
CLOCK_SLACK_S = 2.0


def lock_path(project_path: Path, queue_name: str) -> Path:
    """The lock file of queue ``queue_name`` (named by a hash: a queue name may be any text)."""
    digest = hashlib.sha256(queue_name.encode()).hexdigest()[:16]
    return project_path / "data" / ".queue-locks" / f"{digest}.lock"


@contextmanager
def queue_lock(project_path: Path, queue_name: str) -> Iterator[None]:
    """Hold queue ``queue_name``'s lock; refuse if a live process holds it, take a stale one."""
    path = lock_path(project_path, queue_name)
    path.parent.mkdir(parents=True, exist_ok=True)
    me = psutil.Process()
    owner = {"pid": me.pid, "started": me.create_time(), "queue": queue_name}
    while not _create(path, owner):
        holder = _read(path)
        if holder is None and _seconds_since_written(path) < CLOCK_SLACK_S:
            time.sleep(0.05)  # being written by its owner right now: read it again
            continue
        if holder is not None and _alive(holder):
            raise InputError(
                f"Queue '{queue_name}' is already running (process {holder['pid']}, lock file "
                f"{path}): wait for it to end, or stop that process."
            )
        logger.warning(
            "Queue '%s': taking over the lock of process %s, which is gone.",
            queue_name,
            holder["pid"] if holder else "?",
        )
        if _read(path) == holder:  # not taken over by another queue run meanwhile
            path.unlink(missing_ok=True)
    try:
        yield
    finally:
        if _read(path) == owner:
            path.unlink(missing_ok=True)


def _create(path: Path, owner: dict) -> bool:
    """Create the lock file holding ``owner``; ``False`` if it already exists."""
    try:
        descriptor = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    except FileExistsError:
        return False
    with os.fdopen(descriptor, "w") as stream:
        json.dump(owner, stream)
    return True


def _read(path: Path) -> dict | None:
    """The lock's owner, ``None`` if the file is gone or unreadable (half-written by a crash)."""
    try:
        owner = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return owner if isinstance(owner, dict) and isinstance(owner.get("pid"), int) else None


def _seconds_since_written(path: Path) -> float:
    """How long ago ``path`` was last written (infinite if it is gone)."""
    try:
        return time.time() - path.stat().st_mtime
    except FileNotFoundError:
        return float("inf")


def _alive(owner: dict) -> bool:
    """Whether the lock's owner still runs (not another process that reuses its id)."""
    try:
        process = psutil.Process(owner["pid"])
        return (
            process.status() != psutil.STATUS_ZOMBIE
            and abs(process.create_time() - float(owner.get("started", 0))) <= CLOCK_SLACK_S
        )
    except psutil.AccessDenied:
        return True
    except (psutil.NoSuchProcess, TypeError, ValueError):
        return False
