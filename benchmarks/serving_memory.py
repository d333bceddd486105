"""Memory of the model server under maximal requests: peak and what it keeps afterwards.

For each architecture served (``svm`` and ``musicnn_probe`` by default, trained on tiny data
in a temporary project copy, see ``model_server.py``), ``mlflow models serve`` of its logged
model runs on 127.0.0.1 and this script reports the RSS and PSS summed over the server's
process tree:

1. ready: after start-up (``/ping`` answers) and 3 s of rest;
2. one maximal request: a ``--minutes`` (default 14.5, the limit is 15) 16-bit mono WAV at
   22050 Hz, base64-encoded (the issue's 49 MB request): peak while it runs, and what the
   server still holds ``--settle`` seconds after the answer (retained, against "ready");
3. ``--concurrent`` (default 4) such requests at once: peak, and retained;
4. one request over the server's body limit: its HTTP status (413 expected).

Every request must be answered 200 with status ok (3, 4: the expected refusal); the script
stops by itself. Run from the project root (a few minutes on 2 cores)::

    .venv/bin/python benchmarks/serving_memory.py [--workdir /tmp/serving] [--models svm]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from model_server import (
    TreeMemory,
    model_server,
    post,
    request_body,
    served_model,
    trained_project,
    wav_bytes,
)


def checked(status: int, answer: bytes) -> None:
    """Stop unless the server answered 200 with every row classified."""
    if status != 200:
        raise SystemExit(f"HTTP {status}: {answer[:2000]!r}")
    rows = json.loads(answer)["predictions"]
    if any(row["status"] != "ok" for row in rows):
        raise SystemExit(f"Not classified: {[row['error'] for row in rows]}")


def measure(project: Path, architecture: str, body: bytes, args: argparse.Namespace) -> dict:
    """Start the server of ``architecture`` and measure it as the module docstring says."""
    log = project / "logs" / f"serve-{architecture}.log"
    log.parent.mkdir(exist_ok=True)
    figures: dict = {}
    with model_server(project, served_model(project, architecture, args.code), log) as (
        port,
        process,
    ):
        memory = TreeMemory(process.pid)
        try:
            time.sleep(3)
            figures["ready"] = memory.now()

            memory.reset()
            status, seconds, answer = post(port, body)
            checked(status, answer)
            figures["one_seconds"] = seconds
            figures["one_peak"] = memory.peak()
            time.sleep(args.settle)
            figures["one_after"] = memory.now()

            memory.reset()
            with ThreadPoolExecutor(args.concurrent) as pool:
                started = time.perf_counter()
                answers = list(pool.map(lambda _: post(port, body), range(args.concurrent)))
                figures["many_seconds"] = time.perf_counter() - started
            for status, _, answer in answers:
                checked(status, answer)
            figures["many_peak"] = memory.peak()
            time.sleep(args.settle)
            figures["many_after"] = memory.now()

            oversized = request_body(b"\0" * (args.over_limit_mb * 1_000_000 * 3 // 4 + 1))
            figures["over_limit_status"] = post(port, oversized)[0]
        finally:
            memory.stop()
    return figures


def main() -> None:
    """Train (or reuse) the project copy, measure each model's server, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="+", default=["svm", "musicnn_probe"])
    parser.add_argument("--minutes", type=float, default=14.5)
    parser.add_argument("--concurrent", type=int, default=4)
    parser.add_argument("--settle", type=float, default=5.0)
    parser.add_argument(
        "--over-limit-mb", type=int, default=101, help="base64 MB of the request over the limit"
    )
    parser.add_argument("--workdir", type=Path, help="keep the trained project copy here")
    parser.add_argument(
        "--code",
        type=Path,
        help="serve the trained models with this gtzan_kedro package folder instead of the "
        "code they were logged with (compares code versions on the same models)",
    )
    args = parser.parse_args()

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="gtzan-serving-memory-"))
    project = trained_project(workdir, args.models)
    body = request_body(wav_bytes(args.minutes * 60), "long.wav")
    print(f"Request: {args.minutes} min WAV, {len(body) / 1e6:.1f} MB of JSON", flush=True)
    results = {model: measure(project, model, body, args) for model in args.models}

    print("\nRSS / PSS of the server's process tree, GB")
    header = f"| model | ready | 1 request: peak | after | {args.concurrent} at once: peak | after "
    print(header + "| retained (1, n) | over-limit status |")
    print("|---" * 8 + "|")
    for model, f in results.items():
        cells = [
            f"{f['ready'][0]:.2f} / {f['ready'][1]:.2f}",
            f"{f['one_peak'][0]:.2f} / {f['one_peak'][1]:.2f} ({f['one_seconds']:.1f} s)",
            f"{f['one_after'][0]:.2f} / {f['one_after'][1]:.2f}",
            f"{f['many_peak'][0]:.2f} / {f['many_peak'][1]:.2f} ({f['many_seconds']:.1f} s)",
            f"{f['many_after'][0]:.2f} / {f['many_after'][1]:.2f}",
            f"+{(f['one_after'][0] - f['ready'][0]) * 1000:.0f} MB, "
            f"+{(f['many_after'][0] - f['ready'][0]) * 1000:.0f} MB RSS",
            str(f["over_limit_status"]),
        ]
        print(f"| {model} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
