"""Time musicnn embeddings of 30-s clips in one process, with peak memory.

Steps, each timed:

1. the converted weights: fetched and converted when missing, else found in place (a cached
   run never starts pip: the wheel's hash is checked, nothing more);
2. the first clip (TensorFlow import, model build, librosa's first resample/mel);
3. ``--clips`` generated 30-s clips at 22050 Hz through the ``musicnn`` feature set, split into
   preprocessing (resample + mel) and the network, giving clips per second.

CPU seconds per clip are printed too: on a shared machine they, unlike the wall clock, hardly
depend on the neighbours (on 2 idle cores, clips/s is at most 2 / CPU seconds per clip).
Peak memory is the process's ``ru_maxrss`` (resident set, as the kernel reports it at exit).
TensorFlow uses every core it sees in one process; the pipeline's parallel workers divide them.

Run from the project root (a minute or two on 2 cores)::

    .venv/bin/python benchmarks/musicnn_embeddings.py --clips 20
"""

from __future__ import annotations

import argparse
import os
import resource
import time
from pathlib import Path

import numpy as np

from gtzan_kedro.features.musicnn import musicnn as musicnn_features
from gtzan_kedro.features.windows import sliding_windows
from gtzan_kedro.musicnn import network as musicnn
from gtzan_kedro.sources.generator import synthesise_clip
from gtzan_kedro.sources.gtzan_genres import GTZAN_GENRES as GENRES

SAMPLE_RATE = 22050
CLIP_SECONDS = 30.0


def main() -> None:
    """Time the steps and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=20)
    parser.add_argument("--model", default="MSD_musicnn", choices=musicnn.MODELS)
    parser.add_argument("--weights-dir", type=Path, default=musicnn.DEFAULT_WEIGHTS_DIR)
    args = parser.parse_args()

    clips = [
        synthesise_clip(
            GENRES[index % len(GENRES)],
            index,
            seconds=CLIP_SECONDS,
            sample_rate=SAMPLE_RATE,
            seed=0,
        )
        for index in range(args.clips + 1)
    ]

    started = time.perf_counter()
    weights = musicnn.ensure_musicnn_weights(args.model, args.weights_dir)
    print(f"weights ready (fetch/convert or cache): {time.perf_counter() - started:6.2f} s")

    started = time.perf_counter()
    first = musicnn_features(
        clips[0], SAMPLE_RATE, model=args.model, weights_dir=str(args.weights_dir)
    )
    print(f"first clip (TF import, model build):    {time.perf_counter() - started:6.2f} s")

    preprocessing = network = 0.0
    cpu_started = time.process_time()
    for clip in clips[1:]:
        started = time.perf_counter()
        patches = sliding_windows(
            musicnn.mel_frames(clip, SAMPLE_RATE), musicnn.PATCH_FRAMES, musicnn.PATCH_FRAMES
        )
        middle = time.perf_counter()
        embeddings = musicnn.embed(patches, weights, ("max_pool", "mean_pool"))
        preprocessing += middle - started
        network += time.perf_counter() - middle
    total = preprocessing + network
    cpu_per_clip = (time.process_time() - cpu_started) / args.clips
    print(f"embeddings per clip:                    {embeddings.shape} (first: {first.shape})")
    print(
        f"{args.clips} clips of 30 s: {total:.2f} s = {args.clips / total:.2f} clips/s "
        f"(preprocessing {preprocessing / args.clips:.3f} s/clip, "
        f"network {network / args.clips:.3f} s/clip)"
    )
    # On a shared machine the wall clock depends on the neighbours; CPU seconds much less.
    print(
        f"CPU time per clip: {cpu_per_clip:.2f} core-seconds ({cpu_per_clip / total * args.clips:.2f} cores busy)"
    )
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak resident memory: {peak_mib:.0f} MiB; cores visible: {os.cpu_count()}")
    print(f"check: embeddings finite {bool(np.isfinite(embeddings).all())}")


if __name__ == "__main__":
    main()
