"""One queue run at a time: a live owner's lock refuses, a dead owner's lock is taken over."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from gtzan_kedro.errors import InputError
from gtzan_kedro.experiments.lock import lock_path, queue_lock


def test_a_lock_held_by_a_live_process_refuses_in_one_line(tmp_path: Path):
    with queue_lock(tmp_path, "tiny"):
        with pytest.raises(InputError, match=r"^Queue 'tiny' is already running \(process \d+"):
            with queue_lock(tmp_path, "tiny"):
                pass
        # Another queue has its own lock.
        with queue_lock(tmp_path, "other"):
            pass

    assert not lock_path(tmp_path, "tiny").exists()


def test_the_lock_of_a_process_that_is_gone_is_taken_over(tmp_path: Path):
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    path = lock_path(tmp_path, "tiny")
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"pid": gone.pid, "started": 0.0, "queue": "tiny"}))

    with queue_lock(tmp_path, "tiny"):
        assert json.loads(path.read_text())["pid"] == psutil.Process().pid

    assert not path.exists()
