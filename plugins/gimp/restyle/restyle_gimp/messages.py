"""What the user reads: progress lines and error messages."""
from __future__ import annotations

from typing import Optional, Tuple

from engine.client import EngineError, EngineNotRunning, JobCancelled

DOCTOR_HINT = "run `restyle doctor` in a terminal to see what is wrong"


def progress(report: dict) -> Tuple[Optional[float], str]:
    """The fraction done (None when unknown) and the status line for one progress report."""
    done, total = report.get("done", 0), report.get("total", 0)
    stage = report.get("stage") or "working"
    if stage == "queued":
        position = report.get("position", 0)
        return None, f"Style transfer: waiting for the engine ({position} job(s) ahead)"
    fraction = min(1.0, max(0.0, done / total)) if total else None
    eta = report.get("eta_s")
    tail = f", about {eta:.0f} s left" if isinstance(eta, (int, float)) and eta >= 1 else ""
    return fraction, f"Style transfer: {stage}{tail}"


def engine_failure(error: EngineError) -> str:
    """The message for an engine that is missing, failed or cancelled the job."""
    if isinstance(error, JobCancelled):
        return "Style transfer was cancelled; the image is unchanged"
    if isinstance(error, EngineNotRunning):
        return (f"The style transfer engine is not running: {error.message}. To fix it: {error.hint}; or "
                f"rerun `python3 install/install.py --gimp --engine PATH` so the plug-in starts it. "
                f"If it still fails, {DOCTOR_HINT}")
    hint = f" {error.hint}" if error.hint else ""
    return f"The style transfer engine refused the job: {error.message}.{hint}"


def unexpected(error: Exception) -> str:
    """The message for a failure nobody planned for; the image is unchanged at that point or undoable."""
    return f"Style Transfer failed ({type(error).__name__}: {error}). {DOCTOR_HINT[0].upper()}{DOCTOR_HINT[1:]}, " \
           "and report the problem with its output"
