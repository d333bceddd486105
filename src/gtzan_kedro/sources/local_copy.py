"""GTZAN already on disk, in any of its common layouts, read clip by clip.

Every layout people have is a variation of ``<something>/<genre>/<file>``: the original
archive ``genres.tar.gz`` (``genres/<genre>/<genre>.000NN.au``), its extracted folder, the
Kaggle copy (``Data/genres_original/<genre>/<genre>.000NN.wav``, also zipped) or any folder of
genre folders. So a clip is any audio file whose parent folder is named after a GTZAN genre,
and the layout is found from the files themselves rather than from a list of known names.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import stat
import tarfile
import tempfile
import zipfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path, PurePosixPath

from gtzan_kedro.errors import InputError
from gtzan_kedro.genres import AUDIO_EXTENSIONS, GENRES

logger = logging.getLogger(__name__)

TAR_SUFFIXES = (".tar.gz", ".tgz", ".tar", ".tar.bz2", ".tbz2", ".tar.xz", ".txz")
ZIP_SUFFIXES = (".zip",)

_LAYOUT_HELP = (
    f"expected audio files in genre folders ({', '.join(GENRES)}), e.g. the original "
    "genres.tar.gz (genres/<genre>/<genre>.000NN.au), its extracted folder, or the Kaggle copy "
    "(Data/genres_original/<genre>/<genre>.000NN.wav, zipped or not)"
)


@dataclass(frozen=True)
class LocalCopy:
    """One GTZAN copy: where it is, what it is and its clips as lazy readers of their bytes."""

    path: Path
    kind: str  # "tar archive", "zip archive" or "folder"
    root: str  # folder inside the copy that holds the genre folders ("" at the top)
    clips: dict[str, Callable[[], bytes]]  # "<genre>/<file>" -> read the file's bytes

    def describe(self) -> str:
        """Return a one-line description for the log."""
        return f"{self.kind} '{self.path}', genre folders under '{self.root or '.'}'"


def open_local_copy(path: Path) -> LocalCopy:
    """Recognise the GTZAN copy at ``path`` (archive or folder) and list its clips."""
    if path.is_dir():
        return _open_folder(path)
    if _has_suffix(path, TAR_SUFFIXES):
        return _open_tar(path)
    if _has_suffix(path, ZIP_SUFFIXES):
        return _open_zip(path)
    raise InputError(
        f"'{path}' is neither a folder nor an archive this project reads "
        f"({', '.join(TAR_SUFFIXES + ZIP_SUFFIXES)}): {_LAYOUT_HELP}."
    )


def _has_suffix(path: Path, suffixes: tuple[str, ...]) -> bool:
    """Return whether the file name ends with one of ``suffixes``, ignoring case."""
    return path.name.lower().endswith(suffixes)


def _clip_location(name: str) -> tuple[str, str] | None:
    """Return ``(root, "<genre>/<file>")`` when ``name`` is an audio file in a genre folder."""
    parts = PurePosixPath(name).parts
    if len(parts) < 2 or parts[-2] not in GENRES:
        return None
    # macOS archive junk (__MACOSX/, ._ resource forks) repeats every clip name.
    if parts[-1].startswith(".") or "__MACOSX" in parts:
        return None
    if PurePosixPath(parts[-1]).suffix.lower() not in AUDIO_EXTENSIONS:
        return None
    return "/".join(parts[:-2]), f"{parts[-2]}/{parts[-1]}"


def _pick_root(path: Path, names: list[str]) -> tuple[str, dict[str, str]]:
    """Return the root holding the most clips and ``{clip key: name}`` of the clips under it."""
    located = [(name, location) for name in names if (location := _clip_location(name))]
    if not located:
        raise InputError(f"No GTZAN clips in '{path}': {_LAYOUT_HELP}.")
    counts = Counter(root for _, (root, _) in located)
    root = min(counts, key=lambda candidate: (-counts[candidate], candidate))
    for other in sorted(set(counts) - {root}):
        # A second copy of the genre folders (a backup, a resampled set ...) must not mix in.
        logger.warning(
            "Ignored %d clips under '%s' in '%s': another set of genre folders; using the %d "
            "under '%s'. Point ingestion.local_path at the one you want.",
            counts[other],
            other,
            path,
            counts[root],
            root or ".",
        )
    return root, {key: name for name, (candidate, key) in located if candidate == root}


# ------------------------------------------------------------------------------- folders


def _open_folder(path: Path) -> LocalCopy:
    """List a folder of genre folders, or else the one GTZAN archive it holds."""
    names = [
        Path(folder, file).relative_to(path).as_posix()
        for folder, _, files in os.walk(path)
        for file in files
    ]
    if any(_clip_location(name) for name in names):
        root, members = _pick_root(path, names)
        clips = {key: partial(_read_file, path / name) for key, name in members.items()}
        return LocalCopy(path, "folder", root, clips)
    archives = sorted(
        child
        for child in path.iterdir()
        if child.is_file() and _has_suffix(child, TAR_SUFFIXES + ZIP_SUFFIXES)
    )
    if len(archives) == 1:
        return open_local_copy(archives[0])
    found = f"several archives ({', '.join(a.name for a in archives)})" if archives else "none"
    raise InputError(
        f"No GTZAN genre folders in '{path}' (ingestion.local_path) and {found} to read "
        f"instead: {_LAYOUT_HELP}. Set ingestion.local_path to the folder or the archive."
    )


def _read_file(path: Path) -> bytes:
    """Return a file's bytes."""
    return path.read_bytes()


# ------------------------------------------------------------------------------ archives
# Members are only ever read, never extracted by name, so none can land outside the raw
# folder; an archive holding such a member is still refused outright, since it is not GTZAN.

_WINDOWS_DRIVE = re.compile(r"^[A-Za-z]:")


def _unsafe_name(name: str) -> str | None:
    """Return why a member name could write outside the target folder, or ``None``."""
    if name.startswith(("/", "\\")) or _WINDOWS_DRIVE.match(name):
        return "an absolute path"
    if ".." in PurePosixPath(name.replace("\\", "/")).parts:
        return "a '..' path"
    return None


def _refuse(archive: Path, member: str, reason: str) -> InputError:
    """Return the error for an archive with an unsafe member."""
    return InputError(
        f"Refused archive '{archive}': member '{member}' is {reason}, which could write outside "
        "the target folder. Nothing was extracted. Get GTZAN from a trusted copy and point "
        "ingestion.local_path at it."
    )


def _open_tar(path: Path) -> LocalCopy:
    """Check and list a (compressed) tar archive in one streaming pass."""
    names = []
    try:
        with tarfile.open(path, "r|*") as archive:
            for member in archive:
                reason = _unsafe_name(member.name)
                if member.issym() or member.islnk():
                    reason = f"a link to '{member.linkname}'"
                elif not (member.isfile() or member.isdir()):
                    reason = reason or "a device or special file"
                if reason:
                    raise _refuse(path, member.name, reason)
                if member.isfile():
                    names.append(member.name)
    except (tarfile.TarError, EOFError, OSError) as error:
        raise InputError(
            f"Cannot read the archive '{path}' ({error}): it is damaged or incomplete; "
            "download it again."
        ) from error
    root, members = _pick_root(path, names)
    reader = _TarClips(path, {name: key for key, name in members.items()})
    return LocalCopy(path, "tar archive", root, {key: partial(reader.read, key) for key in members})


class _TarClips:
    """Reads the clips of one tar archive in any order while decompressing it front to back.

    A compressed tar can only be read from the start. ``ClipFolderDataset`` asks for clips in
    sorted order; when the archive stores them in another order, the clips passed on the way to
    the one asked for, and still to come, wait in a temporary folder on disk (never in memory).
    A clip asked for after it was passed (and not kept) costs one more pass from the start.
    """

    def __init__(self, path: Path, keys: dict[str, str]) -> None:
        self._path = path
        self._keys = keys  # member name -> clip key
        self._archive: tarfile.TarFile | None = None
        self._spool: tempfile.TemporaryDirectory | None = None
        self._waiting: dict[str, Path] = {}

    def read(self, key: str) -> bytes:
        """Return the bytes of the clip ``key`` ("<genre>/<file>")."""
        if key in self._waiting:
            spooled = self._waiting.pop(key)
            data = spooled.read_bytes()
            spooled.unlink()
            return data
        for _ in range(2):  # the second pass starts again from the beginning
            data = self._read_forward(key)
            if data is not None:
                return data
        raise InputError(
            f"'{key}' disappeared from '{self._path}' while it was being read: the archive was "
            "changed or truncated; replace it and run again."
        )

    def _read_forward(self, key: str) -> bytes | None:
        """Read on until ``key``, keeping later clips met on the way; ``None`` at the end."""
        if self._archive is None:
            self._archive = tarfile.open(self._path, "r|*")
        while (member := self._archive.next()) is not None:
            member_key = self._keys.get(member.name)
            if member_key == key:
                return self._archive.extractfile(member).read()
            if member_key is not None and member_key > key:
                self._keep(member, member_key)
        self._archive.close()
        self._archive = None
        return None

    def _keep(self, member: tarfile.TarInfo, key: str) -> None:
        """Copy a member to the temporary folder until it is asked for."""
        if self._spool is None:
            self._spool = tempfile.TemporaryDirectory(prefix="gtzan-clips-")
        target = Path(self._spool.name, key.replace("/", "__"))
        with target.open("wb") as stream:
            shutil.copyfileobj(self._archive.extractfile(member), stream)
        self._waiting[key] = target


def _open_zip(path: Path) -> LocalCopy:
    """Check and list a zip archive from its central directory."""
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, OSError) as error:
        raise InputError(
            f"Cannot read the archive '{path}' ({error}): it is damaged or incomplete; "
            "download it again."
        ) from error
    for info in infos:
        reason = _unsafe_name(info.filename)
        if stat.S_ISLNK(info.external_attr >> 16):
            reason = "a symbolic link"
        if reason:
            raise _refuse(path, info.filename, reason)
    names = [info.filename for info in infos if not info.is_dir()]
    root, members = _pick_root(path, names)
    reader = _ZipClips(path)
    return LocalCopy(
        path,
        "zip archive",
        root,
        {key: partial(reader.read, name) for key, name in members.items()},
    )


class _ZipClips:
    """Reads members of one zip archive, opening it once (zip members are randomly accessible)."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._archive: zipfile.ZipFile | None = None

    def read(self, name: str) -> bytes:
        """Return the bytes of the member ``name``."""
        if self._archive is None:
            self._archive = zipfile.ZipFile(self._path)
        return self._archive.read(name)
