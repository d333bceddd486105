"""A labelled collection already on disk (GTZAN or any other), read clip by clip.

Every layout people have is a variation of ``<something>/<label>/<file>``: GTZAN's original
archive ``genres.tar.gz`` (``genres/<genre>/<genre>.000NN.au``), its extracted folder, the
Kaggle copy (``Data/genres_original/<genre>/<genre>.000NN.wav``, also zipped) or any folder of
label folders. So the root is the folder whose label folders hold the most audio files, found
from the files themselves; ``label_folders`` says which folder names count as labels (GTZAN's
genres by default, ``None``: any). Every audio file under the root is a clip, those outside a
label folder too (the track table reports them).

Tar members are checked with the standard library's "data" extraction filter (plus: no links,
no absolute names) when listed and again when extracted; zip members are read by name.
"""

from __future__ import annotations

import logging
import os
import re
import stat
import tarfile
import tempfile
import zipfile
from collections import Counter
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path, PurePosixPath

from gtzan_kedro.audio_formats import AUDIO_EXTENSIONS
from gtzan_kedro.errors import InputError
from gtzan_kedro.regular_files import irregular_file, read_regular_file
from gtzan_kedro.sources.gtzan_genres import GTZAN_GENRES

logger = logging.getLogger(__name__)

TAR_SUFFIXES = (".tar.gz", ".tgz", ".tar", ".tar.bz2", ".tbz2", ".tar.xz", ".txz")
ZIP_SUFFIXES = (".zip",)

# Folder names that count as labels: a collection of names, or None for any folder.
LabelFolders = Collection[str] | None


def _is_gtzan(label_folders: LabelFolders) -> bool:
    """Whether the copy is read as GTZAN (its genre folders)."""
    return label_folders is not None and tuple(label_folders) == GTZAN_GENRES


def _layout_help(label_folders: LabelFolders) -> str:
    """What a copy is expected to look like, for error messages."""
    if not _is_gtzan(label_folders):
        named = f" ({', '.join(label_folders)})" if label_folders is not None else ""
        return (
            f"expected audio files in one folder per label{named} (<label>/<file>, e.g. "
            "techno/track01.mp3), as a folder or a zip or tar archive"
        )
    return (
        f"expected audio files in genre folders ({', '.join(label_folders)}), e.g. the original "
        "genres.tar.gz (genres/<genre>/<genre>.000NN.au), its extracted folder, or the Kaggle "
        "copy (Data/genres_original/<genre>/<genre>.000NN.wav, zipped or not)"
    )


@dataclass(frozen=True)
class SourceClip:
    """One clip of a copy: its bytes on demand and a stamp that changes when the clip does.

    The stamp (size and modification time, or size and CRC for zip members) is read from the
    listing, so that ``ClipFolderDataset`` can tell a changed clip from its manifest without
    reading it. Calling the clip returns its bytes, like any lazy partition.
    """

    read: Callable[[], bytes]
    stamp: str

    def __call__(self) -> bytes:
        """Return the clip's bytes."""
        return self.read()


@dataclass(frozen=True)
class LocalCopy:
    """One copy: where it is, what it is and its clips as lazy readers of their bytes."""

    path: Path
    kind: str  # "tar archive", "zip archive" or "folder"
    root: str  # folder inside the copy that holds the label folders ("" at the top)
    clips: dict[str, SourceClip]  # "<label>/<file>" (or another path under root) -> clip
    # Files of a folder that are not taken: "<label>/<file>" -> (status, problem).
    refused: dict[str, tuple[str, str]] = field(default_factory=dict)

    def describe(self) -> str:
        """Return a one-line description for the log."""
        return f"{self.kind} '{self.path}', label folders under '{self.root or '.'}'"


def open_local_copy(path: Path, label_folders: LabelFolders = GTZAN_GENRES) -> LocalCopy:
    """Recognise the copy at ``path`` (archive or folder) and list its clips."""
    if path.is_dir():
        return _open_folder(path, label_folders)
    if _has_suffix(path, TAR_SUFFIXES):
        return _open_tar(path, label_folders)
    if _has_suffix(path, ZIP_SUFFIXES):
        return _open_zip(path, label_folders)
    raise InputError(
        f"'{path}' is neither a folder nor an archive this project reads "
        f"({', '.join(TAR_SUFFIXES + ZIP_SUFFIXES)}): {_layout_help(label_folders)}."
    )


def _has_suffix(path: Path, suffixes: tuple[str, ...]) -> bool:
    """Return whether the file name ends with one of ``suffixes``, ignoring case."""
    return path.name.lower().endswith(suffixes)


def _is_audio(parts: tuple[str, ...]) -> bool:
    """Return whether a path's parts name an audio file (not macOS archive junk)."""
    # macOS archive junk (__MACOSX/, ._ resource forks) repeats every clip name.
    if not parts or parts[-1].startswith(".") or "__MACOSX" in parts:
        return False
    return PurePosixPath(parts[-1]).suffix.lower() in AUDIO_EXTENSIONS


def _clip_location(name: str, label_folders: LabelFolders) -> tuple[str, str] | None:
    """Return ``(root, "<label>/<file>")`` when ``name`` is an audio file in a label folder."""
    parts = PurePosixPath(name).parts
    if len(parts) < 2 or not _is_audio(parts):
        return None
    if label_folders is not None and parts[-2] not in label_folders:
        return None
    return "/".join(parts[:-2]), f"{parts[-2]}/{parts[-1]}"


def _stray_key(name: str, root: str, label_folders: LabelFolders) -> str | None:
    """Return the key of an audio file under ``root`` that is in no label folder, or ``None``."""
    parts = PurePosixPath(name).parts
    if not _is_audio(parts) or _clip_location(name, label_folders) is not None:
        return None
    if not root:
        return name
    return name.removeprefix(f"{root}/") if name.startswith(f"{root}/") else None


def _pick_root(
    path: Path, names: list[str], label_folders: LabelFolders
) -> tuple[str, dict[str, str]]:
    """Return the root holding the most clips and ``{clip key: name}`` of the files under it.

    Audio files under the root but outside any label folder are listed too (the track table
    reports them); those of another set of label folders are left out with a warning.
    """
    located = [
        (name, location) for name in names if (location := _clip_location(name, label_folders))
    ]
    if not located:
        what = "GTZAN" if _is_gtzan(label_folders) else "labelled"
        raise InputError(f"No {what} clips in '{path}': {_layout_help(label_folders)}.")
    counts = Counter(root for _, (root, _) in located)
    root = min(counts, key=lambda candidate: (-counts[candidate], candidate))
    for other in sorted(set(counts) - {root}):
        # A second copy of the label folders (a backup, a resampled set ...) must not mix in.
        logger.warning(
            "Ignored %d clips under '%s' in '%s': another set of label folders; using the %d "
            "under '%s'. Point ingestion.local_path at the one you want.",
            counts[other],
            other,
            path,
            counts[root],
            root or ".",
        )
    members = {key: name for name, (candidate, key) in located if candidate == root}
    strays = {
        key: name for name in names if (key := _stray_key(name, root, label_folders)) is not None
    }
    return root, {**members, **strays}


# ------------------------------------------------------------------------------- folders


def _open_folder(path: Path, label_folders: LabelFolders) -> LocalCopy:
    """List a folder of label folders, or else the one archive it holds."""
    names = [
        Path(folder, file).relative_to(path).as_posix()
        for folder, _, files in os.walk(path)
        for file in files
    ]
    if any(_clip_location(name, label_folders) for name in names):
        root, members = _pick_root(path, names, label_folders)
        clips, refused = {}, {}
        for key, name in members.items():
            problem = irregular_file(path / name, path)
            if problem:
                refused[key] = problem
            else:
                clips[key] = _file_clip(path / name, path)
        return LocalCopy(path, "folder", root, clips, refused)
    archives = sorted(
        child
        for child in path.iterdir()
        if child.is_file() and _has_suffix(child, TAR_SUFFIXES + ZIP_SUFFIXES)
    )
    if len(archives) == 1:
        return open_local_copy(archives[0], label_folders)
    found = f"several archives ({', '.join(a.name for a in archives)})" if archives else "none"
    kind = "GTZAN genre" if _is_gtzan(label_folders) else "label"
    raise InputError(
        f"No {kind} folders in '{path}' (ingestion.local_path) and {found} to read "
        f"instead: {_layout_help(label_folders)}. Set ingestion.local_path to the folder or "
        "the archive."
    )


def _file_clip(path: Path, folder: Path) -> SourceClip:
    """Return a file as a clip stamped with its size and modification time."""
    status = path.stat()
    return SourceClip(partial(_read_listed, path, folder), f"{status.st_size}:{status.st_mtime_ns}")


def _read_listed(path: Path, folder: Path) -> bytes:
    """Read a listed clip, checking again that it is a regular file inside the folder."""
    problem = irregular_file(path, folder)
    if problem:
        raise InputError(f"'{path}' is {problem[1]}.")
    return read_regular_file(path)


# ------------------------------------------------------------------------------ archives


class _Refused(Exception):
    """An archive member that could write outside the folder it is extracted into."""

    def __init__(self, member: str, reason: str) -> None:
        super().__init__(member, reason)
        self.member = member
        self.reason = reason


_FILTER_REASONS = {
    tarfile.AbsolutePathError: "an absolute path",
    tarfile.OutsideDestinationError: "a '..' path",
    tarfile.SpecialFileError: "a device or special file",
}
# Where the listing pass checks members against: the filter only compares paths.
_CHECK_DESTINATION = str(Path(tempfile.gettempdir(), "gtzan-archive-check"))


def _member_filter(member: tarfile.TarInfo, destination: str) -> tarfile.TarInfo:
    """The standard library's "data" extraction filter, refusing the whole archive on a hit.

    On top of it, links are refused (GTZAN has none) and so are absolute names, which the
    filter would quietly make relative.
    """
    if member.issym() or member.islnk():
        raise _Refused(member.name, f"a link to '{member.linkname}'")
    try:
        filtered = tarfile.data_filter(member, destination)
    except tarfile.FilterError as error:
        raise _Refused(member.name, _FILTER_REASONS.get(type(error), str(error))) from error
    if filtered.name != member.name:
        raise _Refused(member.name, "an absolute path")
    return filtered


def _refuse(archive: Path, refused: _Refused) -> InputError:
    """Return the error for an archive with an unsafe member."""
    return InputError(
        f"Refused archive '{archive}': member '{refused.member}' is {refused.reason}, which "
        "could write outside the target folder. Nothing was taken from it. Get GTZAN from a "
        "trusted copy and point ingestion.local_path at it."
    )


def _damaged(archive: Path, error: Exception) -> InputError:
    """Return the error for an archive that cannot be read to its end."""
    return InputError(
        f"Cannot read the archive '{archive}' ({error}): it is damaged or incomplete; "
        "download it again."
    )


def _open_tar(path: Path, label_folders: LabelFolders) -> LocalCopy:
    """Check every member with the extraction filter and list the clips, in one streaming pass.

    Nothing is extracted until a clip is read, so a run whose raw folder is up to date never
    unpacks the archive.
    """
    stamps = {}
    try:
        with tarfile.open(path, "r|*") as archive:
            for member in archive:
                _member_filter(member, _CHECK_DESTINATION)
                if member.isfile():
                    stamps[member.name] = f"{member.size}:{member.mtime}"
    except _Refused as refused:
        raise _refuse(path, refused) from None
    except (tarfile.TarError, EOFError, OSError) as error:
        raise _damaged(path, error) from error
    root, members = _pick_root(path, list(stamps), label_folders)
    extraction = _TarExtraction(path)
    return LocalCopy(
        path,
        "tar archive",
        root,
        {
            key: SourceClip(partial(extraction.read, name), stamps[name])
            for key, name in members.items()
        },
    )


class _TarExtraction:
    """The archive extracted (through the extraction filter) into a temporary folder on first use.

    A compressed tar can only be read from the start, so it is unpacked once, and every clip
    is then read from disk in any order. The folder goes when this object does.
    """

    def __init__(self, path: Path) -> None:
        self._path = path
        self._folder: tempfile.TemporaryDirectory | None = None

    def read(self, name: str) -> bytes:
        """Return the bytes of the member ``name``."""
        if self._folder is None:
            folder = tempfile.TemporaryDirectory(prefix="gtzan-archive-")
            logger.info("Extracting '%s' into a temporary folder.", self._path)
            try:
                with tarfile.open(self._path, "r:*") as archive:
                    archive.extractall(folder.name, filter=_member_filter)
            except _Refused as refused:  # the archive changed since it was listed
                folder.cleanup()
                raise _refuse(self._path, refused) from None
            except (tarfile.TarError, EOFError, OSError) as error:
                folder.cleanup()
                raise _damaged(self._path, error) from error
            self._folder = folder
        extracted = Path(self._folder.name, name)
        if not extracted.is_file():
            raise InputError(
                f"'{name}' disappeared from '{self._path}' while it was being read: the archive "
                "was changed or truncated; replace it and run again."
            )
        return extracted.read_bytes()


# Zip members are only ever read by name, never extracted, so none can land outside the raw
# folder; an archive holding such a member is still refused outright, since it is not GTZAN.
_WINDOWS_DRIVE = re.compile(r"^[A-Za-z]:")


def _unsafe_zip_name(name: str) -> str | None:
    """Return why a zip member name could write outside the target folder, or ``None``."""
    if name.startswith(("/", "\\")) or _WINDOWS_DRIVE.match(name):
        return "an absolute path"
    if ".." in PurePosixPath(name.replace("\\", "/")).parts:
        return "a '..' path"
    return None


def _open_zip(path: Path, label_folders: LabelFolders) -> LocalCopy:
    """Check and list a zip archive from its central directory."""
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, OSError) as error:
        raise _damaged(path, error) from error
    for info in infos:
        reason = _unsafe_zip_name(info.filename)
        if stat.S_ISLNK(info.external_attr >> 16):
            reason = "a symbolic link"
        if reason:
            raise _refuse(path, _Refused(info.filename, reason))
    files = {info.filename: info for info in infos if not info.is_dir()}
    root, members = _pick_root(path, list(files), label_folders)
    reader = ZipMembers(path)
    return LocalCopy(
        path,
        "zip archive",
        root,
        {
            key: SourceClip(
                partial(reader.read, name), f"{files[name].file_size}:{files[name].CRC:08x}"
            )
            for key, name in members.items()
        },
    )


class ZipMembers:
    """Reads members of one zip archive, opening it once (zip members are randomly accessible)."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._archive: zipfile.ZipFile | None = None

    def read(self, name: str) -> bytes:
        """Return the bytes of the member ``name``."""
        if self._archive is None:
            self._archive = zipfile.ZipFile(self._path)
        return self._archive.read(name)
