"""One style transfer job, off the UI thread: convert the pixels, ask the engine, build the new layer's pixels."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Dict, Optional, Tuple

from . import pixels, request
from .engine_link import client as engine_client
from .region import Region
from .settings import Settings, StyleChoice

Image = engine_client.Image


@dataclass(frozen=True)
class Job:
    """Everything read from Krita on the UI thread that a job needs."""

    content: bytes  # the layer's pixels in ``region.content``, in Krita's format
    fmt: pixels.PixelFormat
    linear: bool
    region: Region
    mask: Optional[bytes]  # the selection in ``region.content``, one byte a pixel; None: no selection
    styles: Tuple[StyleChoice, ...]
    style_images: Dict[int, Any]  # engine Images of the file and layer styles, by index in ``styles``
    options: Dict[str, Any]


def make_client(settings: Settings) -> "engine_client.EngineClient":
    """A client for the engine the settings name, which starts it with their command when needed."""
    return engine_client.EngineClient(endpoint=settings.engine_endpoint or None,
                                      start_command=list(settings.engine_command) or None,
                                      timeout_s=settings.engine_timeout_s)


def run(client: Any, job: Job, on_progress: Optional[Callable[[dict], None]] = None,
        cancel: Optional[Callable[[], bool]] = None) -> bytes:
    """The new layer's pixels for ``job.region.content``, in Krita's format: stylized where selected, clear elsewhere."""
    box = job.region.content
    sent = pixels.to_engine(job.content, job.fmt, job.linear)
    content = Image(box.width, box.height, 4, job.fmt.dtype, sent)
    mask = Image(box.width, box.height, 1, "uint8", job.mask) if job.mask is not None else None
    entries = request.style_entries(job.styles, job.style_images)
    result = client.stylize(content, entries, mask=mask, options=job.options, on_progress=on_progress,
                            cancel=cancel)
    out = bytes(result.image.data)
    if mask is not None:
        out = pixels.keep_changed(sent, out, job.fmt)
    return pixels.from_engine(out, job.fmt, job.linear)


def progress_text(report: Dict[str, Any]) -> Tuple[str, Optional[int]]:
    """A status line and a percentage (None: unknown) for one progress report of the engine."""
    if report.get("stage") == "queued":
        position = report.get("position", 0)
        return (f"Waiting for the engine ({position} job(s) ahead)…" if position else "Queued…"), None
    done, total = report.get("done", 0), report.get("total", 0)
    percent = int(100 * done / total) if isinstance(total, (int, float)) and total > 0 else None
    stage = str(report.get("stage") or "stylizing").replace("_", " ")
    text = f"{stage[:1].upper()}{stage[1:]}…"
    if percent is not None:
        text += f" {percent}%"
    eta = report.get("eta_s")
    if isinstance(eta, (int, float)) and eta >= 1:
        text += f" (about {eta:.0f} s left)"
    return text, percent


def failure_text(error: BaseException) -> str:
    """What to tell the user when a job or the engine failed."""
    if isinstance(error, engine_client.JobCancelled):
        return "Style transfer cancelled."
    if isinstance(error, engine_client.EngineNotRunning):
        return (f"The restyle engine is not available: {error.message}.\n\n{error.hint}\n\n"
                "Run `restyle doctor` in a terminal to see what is wrong with the engine's installation; "
                "`python3 install/install.py --krita --engine PATH` sets the engine the plugin starts.")
    if isinstance(error, engine_client.EngineError):
        return f"The restyle engine could not stylize this image: {error.message}." + (
            f"\n\n{error.hint}" if error.hint else "")
    return f"Style transfer failed: {error}"

