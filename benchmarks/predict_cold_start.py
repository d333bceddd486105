"""Cold start of ``gtzan-kedro predict``: process start to the printed table, per model.

In a temporary project copy keeping only the architectures timed (``svm``, scikit-learn, and
``mlp``, Keras, by default), a tiny training run (6 clips per genre of 4 s, one epoch) logs
their models; then, from the copy, ``gtzan-kedro predict clip.wav --model <name>`` runs
``--repeats`` times per model (the models alternating), each a new process, timed from its
start to the table's first line (``Model: ...``) on its standard output and to its exit
(median and range), with its peak RSS (``/usr/bin/time -v``). One more run per model, through a wrapper that reports at exit
whether ``tensorflow`` and ``keras`` are in ``sys.modules``, says which models pulled
TensorFlow in. Alternating with those runs, a process that only loads the same model with
``mlflow.pyfunc.load_model`` (no Kedro, no audio) is timed to its exit: the floor that MLflow,
the model's framework and its featurisation's imports set, and what the command adds to it.
A third process, with neither Kedro nor MLflow, reads the classifier the same training saved in
``data/06_models/<name>``, decodes the clip and classifies it: what the audio, the features and
the model's framework cost on their own.
The first run of each model also pays for a cold page cache; the median hardly.

Run from the project root (a few minutes on 2 cores)::

    .venv/bin/python benchmarks/predict_cold_start.py
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import mlflow
from full_size_features import PROJECT_ROOT, copy_project, kedro_run, keep_architectures

from gtzan_kedro.datasets import AudioDataset
from gtzan_kedro.models.store import latest_logged_model_uri
from gtzan_kedro.sources.generator import synthesise_clip

SAMPLE_RATE = 22050
TRAINING = (
    "ingestion.source=generated,ingestion.generator.clips_per_genre=6,"
    "ingestion.generator.clip_seconds=4,modelling.training.epochs=1"
)
# Runs the console script's entry point, then says at exit which heavy modules were imported.
WRAPPER = """
import atexit, sys
atexit.register(lambda: print(
    "imported: tensorflow=%s keras=%s" % ("tensorflow" in sys.modules, "keras" in sys.modules),
    file=sys.stderr,
))
from gtzan_kedro.__main__ import main
sys.argv[0] = "gtzan-kedro"
sys.exit(main())
"""


def environment() -> dict[str, str]:
    """The environment of every command: no telemetry."""
    return {**os.environ, "KEDRO_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "1"}


def timed_predict(project: Path, clip: Path, model: str) -> tuple[float, float, float]:
    """Run predict once; seconds to the table's first line and to exit, peak RSS in MB."""
    command = ["/usr/bin/time", "-v", sys.executable, "-c", WRAPPER]
    command += ["predict", str(clip), "--model", model]
    started = time.perf_counter()
    process = subprocess.Popen(
        command,
        cwd=project,
        env=environment(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    # Kedro's start-up log also goes to standard output: the table begins with "Model:".
    before = []
    while (line := process.stdout.readline()) and not line.startswith("Model:"):
        before.append(line)
    answered = time.perf_counter() - started
    rest, errors = process.communicate()
    exited = time.perf_counter() - started
    if process.returncode or not line:
        raise SystemExit(f"predict --model {model} failed:\n{''.join(before)}{rest}{errors}")
    rss_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", errors).group(1))
    return answered, exited, rss_kb / 1024


def seconds_to_run(project: Path, code: str) -> float:
    """Seconds for a new Python process to run ``code`` in ``project``, start to exit."""
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-c", code],
        cwd=project,
        env=environment(),
        capture_output=True,
        check=True,
    )
    return time.perf_counter() - started


def timed_mlflow_load(project: Path, model_uri: str) -> float:
    """Seconds for a new process to load ``model_uri`` with MLflow alone, start to exit."""
    code = (
        "import mlflow.pyfunc; mlflow.set_tracking_uri('sqlite:///mlflow.db'); "
        f"mlflow.pyfunc.load_model({model_uri!r})"
    )
    return seconds_to_run(project, code)


def timed_saved_classifier(project: Path, clip: Path, model: str) -> float:
    """Seconds for a new process to classify ``clip`` with the saved classifier alone."""
    code = (
        "from pathlib import Path; "
        "from gtzan_kedro.datasets import AudioDataset; "
        "from gtzan_kedro.models.genre_classifier import GenreClassifier; "
        f"classifier = GenreClassifier.load(Path('data/06_models/{model}')); "
        f"samples = AudioDataset(filepath={str(clip)!r}, "
        "sample_rate=classifier.sample_rate).load(); "
        "classifier.predict_proba(samples, classifier.sample_rate)"
    )
    return seconds_to_run(project, code)


def logged_model_uri(project: Path, model: str) -> str:
    """The URI ``predict --model <architecture>`` resolves to: its latest logged model."""
    # This process only: the timed commands get their store from the project's mlflow.yml.
    mlflow.set_tracking_uri(f"sqlite:///{project}/mlflow.db")
    experiment = mlflow.get_experiment_by_name("gtzan-kedro")
    return latest_logged_model_uri(model, experiment.experiment_id)


def imported_modules(project: Path, clip: Path, model: str) -> str:
    """What the wrapper printed at exit: whether TensorFlow and Keras were imported."""
    command = [sys.executable, "-c", WRAPPER, "predict", str(clip), "--model", model]
    result = subprocess.run(
        command, cwd=project, env=environment(), capture_output=True, text=True, check=True
    )
    return next(line for line in result.stderr.splitlines() if line.startswith("imported:"))


def main() -> None:
    """Train the tiny models, time predict per model, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="+", default=["svm", "mlp"])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--workdir", type=Path, help="keep the project copy here")
    args = parser.parse_args()

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="gtzan-cold-start-"))
    project = workdir / "project"
    if not project.exists():
        workdir.mkdir(parents=True, exist_ok=True)
        copy_project(PROJECT_ROOT, workdir)
        keep_architectures(project, args.models)
        kedro_run(project, ["--params", TRAINING], "training")
    clip = workdir / "clip.wav"
    samples = synthesise_clip("rock", 999, seconds=30.0, sample_rate=SAMPLE_RATE, seed=7)
    AudioDataset(filepath=str(clip), sample_rate=SAMPLE_RATE).save(samples)

    uris = {model: logged_model_uri(project, model) for model in args.models}
    # Models alternate run by run: the shared machine's load changes by the minute.
    timings: dict[str, list] = {model: [] for model in args.models}
    loads: dict[str, list] = {model: [] for model in args.models}
    saved: dict[str, list] = {model: [] for model in args.models}
    for _ in range(args.repeats):
        for model in args.models:
            timings[model].append(timed_predict(project, clip, model))
            loads[model].append(timed_mlflow_load(project, uris[model]))
            saved[model].append(timed_saved_classifier(project, clip, model))
            print(
                f"  {model}: {timings[model][-1][0]:.1f} s to the table, "
                f"{loads[model][-1]:.1f} s to load with MLflow alone, "
                f"{saved[model][-1]:.1f} s to classify with the saved classifier alone",
                flush=True,
            )
    rows = {
        model: (runs, imported_modules(project, clip, model)) for model, runs in timings.items()
    }

    print(
        f"\n`gtzan-kedro predict <one 30-s clip> --model <name>`, {args.repeats} runs each, "
        f"{os.cpu_count()} cores, load average {os.getloadavg()[1]:.1f} (5 min; shared)\n"
    )
    print(
        f"{'model':<8} {'to table: median [min, max]':>30} {'to exit':>8} {'peak RSS':>9} "
        f"{'MLflow load alone':>18} {'saved classifier alone':>23}  imports"
    )
    for model, (runs, imported) in rows.items():
        answered = [run[0] for run in runs]
        exited = statistics.median(run[1] for run in runs)
        rss = max(run[2] for run in runs)
        interval = f"{statistics.median(answered):.1f} s [{min(answered):.1f}, {max(answered):.1f}]"
        floor = statistics.median(loads[model])
        alone = statistics.median(saved[model])
        print(
            f"{model:<8} {interval:>30} {exited:>6.1f} s {rss:>6.0f} MB {floor:>16.1f} s "
            f"{alone:>21.1f} s  {imported}"
        )
    if not args.workdir:
        shutil.rmtree(workdir)


if __name__ == "__main__":
    main()
