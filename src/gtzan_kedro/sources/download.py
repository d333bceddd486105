"""Fetch the GTZAN archive from a list of mirrors: resumable, verified, renamed when complete."""

from __future__ import annotations

import hashlib
import logging
import re
from pathlib import Path
from typing import Any

import requests
from tqdm.auto import tqdm

from gtzan_kedro.errors import InputError

logger = logging.getLogger(__name__)

# Bytes read per step: also the most an interruption can lose, as a cut read is discarded.
CHUNK_BYTES = 1 << 16
CHECKSUM_ALGORITHMS = ("sha256", "md5")
_CONTENT_RANGE = re.compile(r"bytes (\d+)-\d+/(\d+|\*)")


class MirrorError(Exception):
    """One mirror could not deliver the archive; the next one is tried."""


class _CutShort(Exception):
    """The server closed the connection before the whole file arrived."""


# Errors after which the same mirror is asked again for the rest of the file.
_INTERRUPTIONS = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
    _CutShort,
)


def fetch_archive(download: dict[str, Any], folder: Path) -> Path:
    """Return the verified archive in ``folder``, downloading it from the first mirror that works.

    The file grows as ``<filename>.part`` (kept between runs, so a later run resumes it) and is
    renamed to ``<filename>`` only once its checksum matches, so a file under the final name is
    always complete and verified and is not fetched again.
    """
    target = folder / download["filename"]
    if target.is_file():
        logger.info("Using the GTZAN archive downloaded earlier: '%s'.", target)
        return target
    algorithm, expected = parse_checksum(download.get("checksum"))
    mirrors = download.get("mirrors") or []
    part = target.with_name(f"{target.name}.part")
    folder.mkdir(parents=True, exist_ok=True)
    failures = []
    for url in mirrors:
        logger.info("Downloading %s into '%s'.", url, folder)
        try:
            _download(url, part, download)
            _verify(part, algorithm, expected)
        except MirrorError as error:
            logger.warning("Mirror %s failed: %s", url, error)
            failures.append(f"  - {url}: {error}")
            continue
        part.replace(target)
        logger.info("Downloaded and verified '%s' from %s.", target, url)
        return target
    tried = "\n".join(failures) or "  (none: ingestion.download.mirrors is empty)"
    raise InputError(
        f"Could not download GTZAN from any mirror in ingestion.download.mirrors:\n{tried}\n"
        f"Supply it by hand: get '{download['filename']}' (or the Kaggle zip) from any copy you "
        "trust, then run\n"
        '  kedro run --params "ingestion.source=local,ingestion.local_path=/path/to/archive"\n'
        "or add a working mirror to ingestion.download.mirrors."
    )


def parse_checksum(checksum: str | None) -> tuple[str, str]:
    """Split ``"<algorithm>:<hex digest>"`` into its parts, checking both."""
    algorithm, _, digest = (checksum or "").partition(":")
    algorithm = algorithm.strip().lower()
    digest = digest.strip().lower()
    size = {"sha256": 64, "md5": 32}.get(algorithm)
    if size is None or not re.fullmatch(rf"[0-9a-f]{{{size}}}", digest):
        raise InputError(
            f"Parameter ingestion.download.checksum={checksum!r} must be '<algorithm>:<hex "
            f"digest>' with algorithm {' or '.join(CHECKSUM_ALGORITHMS)}, e.g. 'sha256:<64 hex "
            "digits>': the archive is only used when it matches."
        )
    return algorithm, digest


def _download(url: str, part: Path, download: dict[str, Any]) -> None:
    """Complete ``part`` from ``url``, resuming with HTTP Range after every interruption."""
    attempts = download["attempts"]
    for attempt in range(1, attempts + 1):
        try:
            _download_rest(url, part, download["timeout_s"])
            return
        except _INTERRUPTIONS as error:
            size = part.stat().st_size if part.exists() else 0
            if attempt == attempts:
                raise MirrorError(
                    f"interrupted {attempts} times, last at byte {size} ({error})"
                ) from error
            logger.warning(
                "Download from %s interrupted at byte %d (%s); resuming (attempt %d of %d).",
                url,
                size,
                error,
                attempt + 1,
                attempts,
            )
        except requests.RequestException as error:
            raise MirrorError(str(error)) from error


def _download_rest(url: str, part: Path, timeout_s: float) -> None:
    """Append what ``part`` lacks, or start it again when the server cannot resume."""
    offset = part.stat().st_size if part.exists() else 0
    # Identity encoding: byte offsets must be those of the file for Range to resume it.
    headers = {"Accept-Encoding": "identity"}
    if offset:
        headers["Range"] = f"bytes={offset}-"
    with requests.get(url, headers=headers, stream=True, timeout=timeout_s) as response:
        if response.status_code == 416:  # nothing left to send: the checksum decides
            return
        response.raise_for_status()
        if offset and not _resumes_at(response, offset):
            logger.info("%s cannot resume at byte %d: downloading from the start.", url, offset)
            offset = 0
        length = int(response.headers.get("Content-Length", 0)) or None
        with (
            part.open("ab" if offset else "wb") as stream,
            tqdm(
                total=offset + length if length else None,
                initial=offset,
                unit="B",
                unit_scale=True,
                desc=part.name.removesuffix(".part"),
                disable=None,  # no bar when the output is not a terminal (logs, CI)
            ) as progress,
        ):
            for chunk in response.iter_content(CHUNK_BYTES):
                stream.write(chunk)
                progress.update(len(chunk))
        if length and part.stat().st_size < offset + length:
            raise _CutShort(
                f"connection closed after {part.stat().st_size} of {offset + length} bytes"
            )


def _resumes_at(response: requests.Response, offset: int) -> bool:
    """Return whether the response is the rest of the file from ``offset``."""
    match = _CONTENT_RANGE.match(response.headers.get("Content-Range", ""))
    return response.status_code == 206 and match is not None and int(match.group(1)) == offset


def _verify(part: Path, algorithm: str, expected: str) -> None:
    """Check the downloaded file's checksum, deleting the file when it does not match."""
    digest = hashlib.new(algorithm)
    with part.open("rb") as stream:
        while chunk := stream.read(CHUNK_BYTES):
            digest.update(chunk)
    if digest.hexdigest() != expected:
        part.unlink()
        raise MirrorError(
            f"{algorithm} checksum {digest.hexdigest()} does not match the expected {expected} "
            "(ingestion.download.checksum); the file was deleted"
        )
