"""Pretrained weights from a PyPI wheel: fetched by pip itself, checked, cached, read by name.

musicnn's weights ship inside the ``musicnn==0.1.0`` wheel. The package itself is never
installed (it pins ``numpy<1.17`` and TensorFlow 1 code): pip only downloads the file, whose
sha256 is checked before it is moved, under its own name, into the cache folder. Later runs
find it there and never reach the network. Members are read from the wheel by name with
``zipfile``; nothing else in it is extracted.

``python -m gtzan_kedro.musicnn.wheel`` fills the cache, e.g. before the test suite, which
never fetches; the weights are converted when a run first reads them.
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from gtzan_kedro.errors import InputError

logger = logging.getLogger(__name__)

DEFAULT_WHEEL_CACHE = Path("data/01_raw/pretrained")
FETCH_COMMAND = "python -m gtzan_kedro.musicnn.wheel"


@dataclass(frozen=True)
class WheelSpec:
    """A pinned wheel on a package index: what to ask pip for and what the file must hash to."""

    requirement: str
    filename: str
    sha256: str


MUSICNN_WHEEL = WheelSpec(
    requirement="musicnn==0.1.0",
    filename="musicnn-0.1.0-py3-none-any.whl",
    sha256="f38a4890c648c1ddbb141c5d96d2b0a8cfcd36746002d896989f7b88beb65cfa",
)


def sha256_of(path: Path) -> str:
    """Hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def fetch_wheel(
    cache_dir: Path = DEFAULT_WHEEL_CACHE,
    *,
    spec: WheelSpec = MUSICNN_WHEEL,
    wheel: Path | str | None = None,
    index_url: str | None = None,
) -> Path:
    """Return the verified wheel in ``cache_dir``: cached, copied from ``wheel``, or downloaded.

    A file under the final name in the cache has always passed the checksum; anything that
    fails it is deleted (never the user's own ``wheel`` file) and refused.
    """
    cache_dir = Path(cache_dir)
    target = cache_dir / spec.filename
    if target.is_file():
        if sha256_of(target) == spec.sha256:
            logger.info("Using the cached wheel '%s'.", target)
            return target
        logger.warning("Cached '%s' does not match its sha256; fetching it again.", target)
        target.unlink()
    cache_dir.mkdir(parents=True, exist_ok=True)
    # The temporary folder sits in the cache so the final rename stays on one file system.
    with tempfile.TemporaryDirectory(dir=cache_dir, prefix=".fetch-") as temporary:
        if wheel is not None:
            candidate = _copy_handed_over(Path(wheel), Path(temporary), spec)
        else:
            candidate = _pip_download(Path(temporary), spec, index_url)
        _verify(candidate, spec, source=str(wheel) if wheel is not None else "pip's download")
        candidate.replace(target)
    logger.info("Cached the verified wheel '%s'.", target)
    return target


def _copy_handed_over(wheel: Path, folder: Path, spec: WheelSpec) -> Path:
    """Copy the user's wheel into ``folder`` (the original stays where it is)."""
    if not wheel.is_file():
        raise InputError(
            f"Parameter wheel='{wheel}' is not a file: give the path of a downloaded "
            f"'{spec.filename}'."
        )
    copy = folder / spec.filename
    shutil.copyfile(wheel, copy)
    return copy


def _pip_download(folder: Path, spec: WheelSpec, index_url: str | None) -> Path:
    """Let pip download the pinned wheel into ``folder``; one clear error when it cannot."""
    command = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--only-binary=:all:",
        "--no-cache-dir",
        "--disable-pip-version-check",
        "--no-input",
        "--progress-bar=off",
        "--retries=2",
        "--timeout=30",
        "--dest",
        str(folder),
        spec.requirement,
    ]
    if index_url:
        command[4:4] = ["--index-url", index_url]
    logger.info("Downloading %s with pip.", spec.requirement)
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    downloaded = folder / spec.filename
    if result.returncode != 0 or not downloaded.is_file():
        index = index_url or "the package index"
        reason = _last_error_line(result.stderr)
        raise InputError(
            f"pip could not download {spec.requirement} from {index} ({reason}); with no "
            f"access to it, get '{spec.filename}' (sha256 {spec.sha256}) elsewhere and hand it "
            f"over by path: parameter wheel=/path/to/{spec.filename}, or "
            f"`{FETCH_COMMAND} --wheel /path/to/{spec.filename}`."
        )
    return downloaded


_UNREACHABLE = ("NewConnectionError", "ConnectionError", "Max retries exceeded", "resolution")


def _last_error_line(stderr: str) -> str:
    """Why pip failed: unreachable index, else its last error line."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    if any(marker in line for line in lines for marker in _UNREACHABLE):
        return "the index could not be reached"
    errors = [line for line in lines if line.startswith("ERROR")]
    return (errors or lines or ["no output"])[-1]


def _verify(candidate: Path, spec: WheelSpec, source: str) -> None:
    """Delete ``candidate`` and refuse it unless its sha256 is the pinned one."""
    actual = sha256_of(candidate)
    if actual != spec.sha256:
        candidate.unlink()
        raise InputError(
            f"Refused {source}: '{spec.filename}' has sha256 {actual}, expected {spec.sha256}; "
            "the file was deleted. Fetch it again from PyPI or hand over an intact copy."
        )


def read_member(wheel: Path, name: str) -> bytes:
    """The bytes of member ``name`` of the wheel (read by name, nothing extracted)."""
    with zipfile.ZipFile(wheel) as archive:
        try:
            return archive.read(name)
        except KeyError:
            raise InputError(f"'{wheel}' has no member '{name}': is it the right wheel?") from None


def licence_text(wheel: Path) -> str:
    """The licence shipped in the wheel (its dist-info first, then the package)."""
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
    candidates = [
        name
        for name in names
        if Path(name).name.lower().startswith(("license", "licence", "copying"))
    ]
    if not candidates:
        raise InputError(f"'{wheel}' ships no licence file: refusing to use its weights.")
    candidates.sort(key=lambda name: (".dist-info/" not in name, name))
    return read_member(wheel, candidates[0]).decode("utf-8")


def main(argv: list[str] | None = None) -> None:
    """Fetch the musicnn wheel into the cache (its weights are converted on first use)."""
    parser = argparse.ArgumentParser(prog=FETCH_COMMAND, description=main.__doc__)
    parser.add_argument("--cache-dir", type=Path, default=DEFAULT_WHEEL_CACHE)
    parser.add_argument("--wheel", type=Path, help="a downloaded wheel to use instead of pip")
    parser.add_argument("--index-url", help="the package index pip asks (default: pip's own)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        wheel = fetch_wheel(args.cache_dir, wheel=args.wheel, index_url=args.index_url)
    except InputError as error:
        sys.exit(f"Error: {error}")
    logger.info("Ready: '%s'.", wheel)


if __name__ == "__main__":
    main()


# The ISC licence's grant, as musicnn's wheel words it: how its notice is recognised.
_ISC_GRANT = "Permission to use, copy, modify, and/or distribute this software for any purpose"


def licence_of(weights: Path) -> str:
    """The licence of pretrained ``weights``, from the notice kept beside them (``*LICENSE*``)."""
    notices = sorted(Path(weights).parent.glob("*LICENSE*"))
    if not notices:
        return "unknown (no licence notice beside the weights)"
    text = notices[0].read_text(encoding="utf-8")
    first_line = next((line.strip() for line in text.splitlines() if line.strip()), "")
    kind = "ISC" if _ISC_GRANT in " ".join(text.split()) else "see notice"
    return f"{kind} ({notices[0].name}: {first_line})"
