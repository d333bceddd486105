"""Fetch an archive (GTZAN's, FMA's zips) from a list of mirrors with pooch: verified, resumable.

pooch fetches each mirror into a temporary file, checks it against the known hash, deletes it
when it does not match and renames it into place when it does. Its own downloader always
starts from the first byte, so the one piece added here is a pooch downloader that keeps a
``<filename>.part`` between attempts and runs and asks for the rest with an HTTP Range request.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pooch
import requests
from urllib3.exceptions import NewConnectionError

from gtzan_kedro.errors import InputError
from gtzan_kedro.progress import progress_bar

logger = logging.getLogger(__name__)

# Bytes read per step: also the most an interruption can lose, as a cut read is discarded.
CHUNK_BYTES = 1 << 16
CHECKSUM_ALGORITHMS = ("sha256", "sha1", "md5")
_DIGEST_LENGTHS = {"sha256": 64, "sha1": 40, "md5": 32}
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


def fetch_archive(
    download: dict[str, Any],
    folder: Path,
    *,
    what: str = "GTZAN",
    parameter: str = "ingestion.download",
    checksum_parameter: str | None = None,
) -> Path:
    """Return the verified archive in ``folder``, downloading it from the first mirror that works.

    The file grows as ``<filename>.part`` (kept between runs, so a later run resumes it) and
    only gets ``<filename>`` once pooch found its hash right, so a file under the final name
    is complete and verified and is not fetched again. ``what`` names the dataset and
    ``parameter`` the parameters block in messages.
    """
    target = folder / download["filename"]
    if target.is_file():
        logger.info("Using the %s archive downloaded earlier: '%s'.", what, target)
        return target
    checksum_parameter = checksum_parameter or f"{parameter}.checksum"
    algorithm, expected = parse_checksum(download.get("checksum"), checksum_parameter)
    folder.mkdir(parents=True, exist_ok=True)
    downloader = ResumingDownloader(
        target.with_name(f"{target.name}.part"), download["timeout_s"], download["attempts"]
    )
    # pooch's own INFO lines repeat ours on stderr, outside Kedro's log (its documented switch).
    pooch.get_logger().setLevel(logging.WARNING)
    failures = []
    for url in download.get("mirrors") or []:
        logger.info("Downloading %s into '%s'.", url, folder)
        try:
            pooch.retrieve(
                url,
                known_hash=f"{algorithm}:{expected}",
                fname=target.name,
                path=folder,
                downloader=downloader,
            )
        except MirrorError as error:
            reason = str(error)
        except ValueError as error:  # pooch: the hash does not match; it deleted the file
            reason = f"checksum mismatch ({checksum_parameter}): {error}"
        else:
            logger.info("Downloaded and verified '%s' from %s.", target, url)
            return target
        logger.warning("Mirror %s failed: %s", url, reason)
        failures.append(f"  - {url}: {reason}")
    tried = "\n".join(failures) or f"  (none: {parameter}.mirrors is empty)"
    if what != "GTZAN":
        raise InputError(
            f"Could not download {what}'s '{download['filename']}':\n{tried}\nGet it from any "
            f"copy you trust into '{folder}' (it must match {checksum_parameter}), or try later."
        )
    raise InputError(
        f"Could not download GTZAN from any mirror in ingestion.download.mirrors:\n{tried}\n"
        f"Supply it by hand: get '{download['filename']}' (or the Kaggle zip) from any copy you "
        "trust, then run\n"
        '  kedro run --params "ingestion.source=local,ingestion.local_path=/path/to/archive"\n'
        "or add a working mirror to ingestion.download.mirrors (the archive must match "
        "ingestion.download.checksum)."
    )


def parse_checksum(
    checksum: str | None, parameter: str = "ingestion.download.checksum"
) -> tuple[str, str]:
    """Split ``"<algorithm>:<hex digest>"`` into its parts, checking both."""
    algorithm, _, digest = (checksum or "").partition(":")
    algorithm = algorithm.strip().lower()
    digest = digest.strip().lower()
    size = _DIGEST_LENGTHS.get(algorithm)
    if size is None or not re.fullmatch(rf"[0-9a-f]{{{size}}}", digest):
        raise InputError(
            f"Parameter {parameter}={checksum!r} must be '<algorithm>:<hex "
            f"digest>' with algorithm {' or '.join(CHECKSUM_ALGORITHMS)}, e.g. 'sha256:<64 hex "
            "digits>': the archive is only used when it matches."
        )
    return algorithm, digest


class ResumingDownloader:
    """A pooch downloader that completes ``part`` with HTTP Range requests, then hands it over.

    ``attempts`` connections per mirror: each one after the first resumes where the last one
    stopped. A server that cannot be reached at all is reported as such at once.
    """

    def __init__(self, part: Path, timeout_s: float, attempts: int) -> None:
        self.part = part
        self.timeout_s = timeout_s
        self.attempts = attempts

    def __call__(self, url: str, output_file: str, pooch_object: Any, check_only: bool = False):
        """Download ``url`` into ``output_file`` (pooch's temporary file, which it verifies)."""
        self._complete(url)
        self.part.replace(output_file)

    def _complete(self, url: str) -> None:
        """Complete ``part`` from ``url``, resuming with HTTP Range after every interruption."""
        for attempt in range(1, self.attempts + 1):
            try:
                _download_rest(url, self.part, self.timeout_s)
                return
            except _INTERRUPTIONS as error:
                if _not_connected(error):
                    raise MirrorError(_connection_failure(url, error)) from error
                size = self.part.stat().st_size if self.part.exists() else 0
                if attempt == self.attempts:
                    raise MirrorError(
                        f"the transfer was cut {self.attempts} times, last at byte {size} "
                        f"({error}); raise ingestion.download.attempts or try later"
                    ) from error
                logger.warning(
                    "Download from %s interrupted at byte %d (%s); resuming (attempt %d of %d).",
                    url,
                    size,
                    error,
                    attempt + 1,
                    self.attempts,
                )
            except requests.RequestException as error:
                raise MirrorError(str(error)) from error


def _not_connected(error: Exception) -> bool:
    """Return whether no connection was made at all (refused, unknown host, no answer)."""
    if isinstance(error, requests.ConnectTimeout):
        return True
    reason = getattr(error.args[0], "reason", None) if error.args else None
    return isinstance(error, requests.ConnectionError) and isinstance(reason, NewConnectionError)


def _connection_failure(url: str, error: Exception) -> str:
    """Return one line saying why no connection to ``url``'s server could be made."""
    server = urlsplit(url).netloc
    if isinstance(error, requests.ConnectTimeout):
        return f"no answer from {server} (connection timed out)"
    # urllib3 words it "<connection object>: Failed to establish a new connection: <why>".
    why = str(error.args[0].reason).rpartition("new connection: ")[2]
    return f"could not connect to {server}: {why}"


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
            progress_bar(
                total=offset + length if length else None,
                initial=offset,
                unit="B",
                unit_scale=True,
                desc=part.name.removesuffix(".part"),
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
