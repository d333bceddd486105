"""The web app of ``gtzan-kedro app``: one page, and the JSON API the page calls.

``GET /`` is the page (server-rendered, its script and style served from ``/static``, nothing
from elsewhere); ``GET /api/model`` the model card; ``POST /api/predict`` classifies the
audio files of a multipart upload (field ``file``, repeated for several) and answers the rows
``gtzan-kedro predict --output x.json`` writes, computed by the same code; with
``?timeline=true`` each row also holds its windows' probabilities over time.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import soundfile as sf
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gtzan_kedro.datasets.audio import DEFAULT_MAX_SECONDS, decode_audio
from gtzan_kedro.models.genre_classifier import GenreClassifier
from gtzan_kedro.models.prediction import ClipLimits, classify_clips_with_timelines

logger = logging.getLogger(__name__)

HERE = Path(__file__).parent
MEGABYTE = 1024 * 1024


@dataclass(frozen=True)
class UploadLimits:
    """What one request may upload: files of at most ``max_bytes`` and ``max_seconds`` each."""

    max_bytes: int = 50 * MEGABYTE
    max_seconds: float = DEFAULT_MAX_SECONDS
    max_files: int = 16

    @property
    def max_request_bytes(self) -> int:
        """The most a request body may hold: every file at its largest, and the form around."""
        return self.max_bytes * self.max_files + MEGABYTE


@dataclass(frozen=True)
class ServedModel:
    """The model artefact, loaded once, with its card and the ``inference.*`` settings."""

    classifier: GenreClassifier
    card: dict[str, Any]
    top_k: int
    clip_limits: ClipLimits


class UploadRefused(Exception):
    """An upload the app does not classify: the HTTP status and the message to show."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def create_app(served: ServedModel, limits: UploadLimits) -> FastAPI:
    """The app serving ``served``: the page, ``/api/model`` and ``/api/predict``."""
    app = FastAPI(title="gtzan-kedro", docs_url=None, redoc_url=None, openapi_url=None)
    app.add_middleware(BodyLimit, max_bytes=limits.max_request_bytes)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    templates = Jinja2Templates(directory=HERE / "templates")
    # One clip at a time through the model: a second upload waits rather than halving both.
    model_lock = threading.Lock()

    @app.get("/", response_class=HTMLResponse)
    def page(request: Request) -> Response:
        return templates.TemplateResponse(
            request,
            "index.html",
            {
                "card": served.card,
                "max_bytes": limits.max_bytes,
                "max_megabytes": f"{limits.max_bytes / MEGABYTE:g}",
                "max_minutes": f"{limits.max_seconds / 60:g}",
            },
        )

    @app.get("/api/model")
    def model() -> dict[str, Any]:
        return served.card

    @app.post("/api/predict")
    async def predict(request: Request, timeline: bool = False) -> JSONResponse:
        try:
            _check_declared_length(request, limits)
            async with request.form(max_files=limits.max_files, max_fields=8) as form:
                clips = _upload_loaders(form.getlist("file"), served.classifier, limits)

                def classify() -> list[dict[str, Any]]:
                    with model_lock:
                        return _classify(served, clips, timeline)

                rows = await run_in_threadpool(classify)
        except UploadRefused as refused:
            logger.warning("Upload refused (%d): %s", refused.status, refused.message)
            return JSONResponse({"detail": refused.message}, status_code=refused.status)
        return JSONResponse(rows)

    return app


class BodyLimit:
    """Stops reading a request body past ``max_bytes``: an oversized upload is never stored."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.max_bytes:
                raise UploadRefused(413, _request_too_large(self.max_bytes))
            return message

        await self.app(scope, limited, send)


def _check_declared_length(request: Request, limits: UploadLimits) -> None:
    """Refuse a request whose declared size is over the limit before reading any of it."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limits.max_request_bytes:
        raise UploadRefused(413, _request_too_large(limits.max_request_bytes))


def _upload_loaders(
    uploads: list[Any], classifier: GenreClassifier, limits: UploadLimits
) -> dict[str, Callable[[], np.ndarray]]:
    """Each uploaded file's lazy decoder, by its name; any file over a limit refuses them all."""
    files = [upload for upload in uploads if isinstance(upload, UploadFile)]
    if not files:
        raise UploadRefused(
            422, "No file in the upload: send each audio file in a multipart field named 'file'."
        )
    loaders: dict[str, Callable[[], np.ndarray]] = {}
    for index, upload in enumerate(files):
        name = upload.filename or f"file {index}"
        # Rows are answered in order; a repeated name must not replace an earlier row.
        name = f"{name} ({index})" if name in loaders else name
        if upload.size is not None and upload.size > limits.max_bytes:
            raise UploadRefused(413, _too_large(f"'{name}'", upload.size, limits.max_bytes))
        _check_duration(upload.file, name, limits.max_seconds)
        loaders[name] = _loader(upload.file, name, classifier.sample_rate, limits.max_seconds)
    return loaders


def _too_large(what: str, size: int, limit: int) -> str:
    """The message for an upload over the size limit."""
    return (
        f"{what} is {size / MEGABYTE:.1f} MB, more than the {limit / MEGABYTE:g} MB the app "
        "accepts: send a shorter or more compressed file (or start the app with a larger "
        "--max-upload-mb)."
    )


def _request_too_large(limit: int) -> str:
    """The message for a request body over what all its files may hold together."""
    return (
        f"The upload is larger than the {limit / MEGABYTE:.0f} MB one request may carry: "
        "send fewer or smaller files per request."
    )


def _check_duration(file: BinaryIO, name: str, max_seconds: float) -> None:
    """Refuse a file whose header says it lasts longer than ``max_seconds``."""
    try:
        info = sf.info(file)
    except (sf.LibsndfileError, RuntimeError, TypeError):
        return  # no header libsndfile reads: decoding says what the file is
    finally:
        file.seek(0)
    if info.duration > max_seconds:
        raise UploadRefused(
            422,
            f"'{name}' lasts {info.duration / 60:.1f} minutes, longer than the "
            f"{max_seconds / 60:g} minutes the app classifies: cut it shorter.",
        )


def _loader(
    file: BinaryIO, name: str, sample_rate: int, max_seconds: float
) -> Callable[[], np.ndarray]:
    """Decode the uploaded ``file`` on call, like a file of the same bytes given to predict."""

    def load() -> np.ndarray:
        file.seek(0)
        return decode_audio(
            file.read(),
            name,
            sample_rate,
            max_seconds=max_seconds,
            limit_name=f"the app's {max_seconds / 60:g}-minute limit",
        )

    return load


def _classify(
    served: ServedModel, clips: dict[str, Callable[[], np.ndarray]], timeline: bool
) -> list[dict[str, Any]]:
    """The prediction rows of ``clips``, as ``predict --output x.json`` writes them."""
    table, timelines = classify_clips_with_timelines(
        served.classifier, clips, served.top_k, served.clip_limits
    )
    rows = json.loads(table.to_json(orient="records"))
    if timeline:
        for row in rows:
            drawn = timelines.get(row["file"])
            row["timeline"] = None if drawn is None else json.loads(drawn.to_json(orient="records"))
    return rows
