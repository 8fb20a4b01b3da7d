"""The engine's memory policy: free heap memory goes back to the system once jobs stop."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from engine.memory import IdleRelease

REPO = Path(__file__).resolve().parents[1]


def test_release_waits_until_idle_for_the_delay() -> None:
    released = threading.Event()
    idle = IdleRelease(0.05, released.set)
    idle.job_started()
    assert not released.wait(0.1), "released during a job"
    idle.job_finished()
    assert idle.pending
    assert released.wait(5.0)
    assert not idle.pending


def test_a_new_job_cancels_a_pending_release() -> None:
    calls: list[float] = []
    idle = IdleRelease(0.2, lambda: calls.append(time.monotonic()))
    idle.job_started()
    idle.job_finished()
    idle.job_started()  # before the countdown ends
    time.sleep(0.4)
    assert calls == []
    idle.job_finished()
    time.sleep(0.6)
    assert len(calls) == 1


def test_overlapping_jobs_release_after_the_last_one() -> None:
    calls: list[int] = []
    idle = IdleRelease(0.0, lambda: calls.append(1))
    idle.job_started()
    idle.job_started()
    idle.job_finished()
    assert calls == []
    idle.job_finished()
    assert calls == [1]  # delay 0: at once, in the caller's thread


_CHILD = r"""
import json, sys, time
import numpy as np
import engine

def rss_mb():
    with open("/proc/self/status") as f:
        return next(int(l.split()[1]) / 1024 for l in f if l.startswith("VmRSS:"))

rng = np.random.default_rng(0)
image = rng.integers(0, 256, (1024, 1024, 3), dtype=np.uint8)
stylizer = engine.Stylizer(device="cpu")
stylizer.stylize(image, "preset:0")
after_job = rss_mb()
time.sleep(float(sys.argv[1]))
print(json.dumps({"after_job": after_job, "later": rss_mb()}))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the heap policy applies to glibc only")
def test_an_idle_engine_gives_its_working_memory_back() -> None:
    env = {**os.environ, "RESTYLE_RELEASE_AFTER": "0.3"}
    env.pop("RESTYLE_MALLOC", None)
    out = subprocess.run([sys.executable, "-c", _CHILD, "1.5"], capture_output=True, text=True, env=env, cwd=REPO, check=True)
    rss = json.loads(out.stdout.strip().splitlines()[-1])
    # A 1024² preset job leaves a few hundred MB of freed activations on the heap.
    assert rss["after_job"] - rss["later"] > 100, rss
