"""Reading files the user names or a source lists: regular files only, never blocking.

A FIFO named ``*.wav`` would block a reader forever, a device would stream without end, and a
symbolic link could lead anywhere: each is told apart before anything is opened.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from gtzan_kedro.errors import InputError


def irregular_file(path: Path, folder: Path | None = None) -> tuple[str, str] | None:
    """Return ``(status, problem)`` when ``path`` is not a regular file to read, else ``None``.

    Links are followed only to a file inside ``folder`` (when given); dangling links, FIFOs,
    devices and sockets are refused, so that nothing blocks and nothing leaves the folder.
    """
    if path.is_symlink():
        target = os.readlink(path)
        if not path.exists():
            return "dangling_link", (
                f"a symbolic link to '{target}', which does not exist; fix or delete the link"
            )
        if folder is not None and not path.resolve().is_relative_to(folder.resolve()):
            return "link_outside", (
                f"a symbolic link to '{target}', outside the source folder '{folder}': not "
                "followed; copy the file into the folder instead"
            )
    try:
        mode = path.stat().st_mode
    except OSError as error:
        return "unreadable", f"cannot be read ({error.strerror or error})"
    if not stat.S_ISREG(mode):
        return "not_a_file", (
            f"a {_FILE_KINDS.get(stat.S_IFMT(mode), 'special file')}, not a regular file: "
            "skipped; copy the audio into a regular file"
        )
    return None


_FILE_KINDS = {
    stat.S_IFIFO: "named pipe (FIFO)",
    stat.S_IFCHR: "character device",
    stat.S_IFBLK: "block device",
    stat.S_IFSOCK: "socket",
    stat.S_IFDIR: "folder",
}


def read_regular_file(path: Path) -> bytes:
    """Return a regular file's bytes, refusing anything else without ever blocking on it."""
    # O_NONBLOCK: opening a FIFO without a writer returns at once instead of waiting.
    descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    with os.fdopen(descriptor, "rb") as stream:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            raise InputError(f"'{path}' is not a regular file (it changed since it was checked).")
        return stream.read()
