"""Latency and throughput of the model server, from 1, 4 and 16 concurrent clients.

For each architecture served (``svm`` and ``musicnn_probe`` by default, trained on tiny data
in a temporary project copy, see ``model_server.py``), ``mlflow models serve`` of its logged
model runs on 127.0.0.1; after two warm-up requests, each level of ``--clients`` sends
``--requests`` requests in all (each client its share, one after another), each one 30-s
16-bit WAV at 22050 Hz base64-encoded (GTZAN's clip length). Reported per level: p50 and
p95 latency (request sent to answer read), throughput (requests answered per second of the
level), errors (any answer but 200 with every row classified) and the peak RSS / PSS summed
over the server's process tree. Bounded: at most ``--requests`` per level; the script stops
by itself. Run from the project root (a few minutes on 2 cores)::

    .venv/bin/python benchmarks/serving_latency.py [--workdir /tmp/serving] [--models svm]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from model_server import (
    TreeMemory,
    model_server,
    post,
    request_body,
    served_model,
    trained_project,
    wav_bytes,
)


def answered_ok(status: int, answer: bytes) -> bool:
    """Whether the server answered 200 with every row classified."""
    if status != 200:
        return False
    return all(row["status"] == "ok" for row in json.loads(answer)["predictions"])


def level(port: int, body: bytes, clients: int, requests: int) -> dict:
    """Send ``requests`` requests from ``clients`` threads; latencies, throughput, errors."""
    per_client = [requests // clients + (i < requests % clients) for i in range(clients)]

    def client(count: int) -> list[tuple[bool, float]]:
        results = []
        for _ in range(count):
            status, seconds, answer = post(port, body)
            results.append((answered_ok(status, answer), seconds))
        return results

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        results = [result for batch in pool.map(client, per_client) for result in batch]
    elapsed = time.perf_counter() - started
    latencies = np.array([seconds for _, seconds in results])
    return {
        "p50": float(np.percentile(latencies, 50)),
        "p95": float(np.percentile(latencies, 95)),
        "throughput": len(results) / elapsed,
        "errors": sum(not ok for ok, _ in results),
        "requests": len(results),
    }


def measure(project: Path, architecture: str, body: bytes, args: argparse.Namespace) -> dict:
    """Start the server of ``architecture``; measure each level of clients."""
    log = project / "logs" / f"serve-{architecture}.log"
    log.parent.mkdir(exist_ok=True)
    figures = {}
    with model_server(project, served_model(project, architecture, args.code), log) as (
        port,
        process,
    ):
        memory = TreeMemory(process.pid)
        try:
            for _ in range(2):  # whatever the first requests build is not latency
                post(port, body)
            for clients in args.clients:
                memory.reset()
                figures[clients] = level(port, body, clients, max(args.requests, clients))
                figures[clients]["peak"] = memory.peak()
                print(f"  {architecture}, {clients} clients: {figures[clients]}", flush=True)
        finally:
            memory.stop()
    return figures


def main() -> None:
    """Train (or reuse) the project copy, measure each model's server, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="+", default=["svm", "musicnn_probe"])
    parser.add_argument("--clients", nargs="+", type=int, default=[1, 4, 16])
    parser.add_argument("--requests", type=int, default=32, help="requests per level")
    parser.add_argument("--workdir", type=Path, help="keep the trained project copy here")
    parser.add_argument(
        "--code",
        type=Path,
        help="serve the trained models with this gtzan_kedro package folder instead of the "
        "code they were logged with (compares code versions on the same models)",
    )
    args = parser.parse_args()

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="gtzan-serving-latency-"))
    project = trained_project(workdir, args.models)
    body = request_body(wav_bytes(30.0), "clip.wav")
    results = {model: measure(project, model, body, args) for model in args.models}

    print("\n| model | clients | p50 s | p95 s | requests/s | errors | peak RSS / PSS GB |")
    print("|---" * 7 + "|")
    for model, levels in results.items():
        for clients, f in levels.items():
            print(
                f"| {model} | {clients} | {f['p50']:.3f} | {f['p95']:.3f} | "
                f"{f['throughput']:.2f} | {f['errors']}/{f['requests']} | "
                f"{f['peak'][0]:.2f} / {f['peak'][1]:.2f} |"
            )


if __name__ == "__main__":
    main()
