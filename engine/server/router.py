"""The engine server: a ZeroMQ ROUTER that answers clients and runs ``stylize`` jobs on worker threads.

The main thread owns the ROUTER socket: it checks every message, answers ``ping``/``status``/``cancel``/
``heartbeat`` at once and queues ``stylize`` jobs. Workers run jobs on their own :class:`engine.Stylizer`;
a styles thread renders preset thumbnails on another. Both hand their replies back over an inproc socket,
so the main loop never waits on a stylizer. Nothing that arrives stops it.
"""
from __future__ import annotations

import ipaddress
import itertools
import logging
import math
import os
import queue
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import zmq

from .. import __version__
from ..client.discovery import remove_discovery, write_discovery
from ..client.protocol import (
    CLIENT_TYPES,
    MAX_ID_CHARS,
    PROTOCOL,
    Frame,
    Message,
    ProtocolError,
    deserialize,
    field_int,
    field_str,
    serialize,
)
from ..client.shm import MappingCache
from ..errors import BadInput, Cancelled, RestyleError
from ..progress import Progress
from ..style_scale import AUTO_REFERENCE_SIDE, STYLE_SCALE_RANGE
from .jobs import Busy, Job, JobQueue
from .stylize_request import Limits, array_frame, describe, parse_stylize, result_frame, stylizer_call

log = logging.getLogger("restyle.server")

METHODS = ("arbitrary", "preset", "optimize")
DEFAULT_CONTEXT_MARGIN = 64
FEATURES = ("regions", "detail", "style_scale_auto")  # additions to protocol v1 this engine understands (in pong)
PREVIEW_INTERVAL_S = 1.0
MAX_STYLES_WAITING = 16
POLL_MS = 100
BATCH = 64  # messages handled from one socket before looking at the other
_instances = itertools.count()


@dataclass(frozen=True)
class ServerConfig:
    """How the engine listens and what it accepts."""

    endpoint: str
    workers: int = 1
    max_queue: int = 8
    max_queued_bytes: int = 2 << 30
    limits: Limits = field(default_factory=Limits)
    client_timeout_s: float = 10.0  # a client silent this long while it has jobs is gone
    curve_keys: Optional[Tuple[bytes, bytes]] = None  # (public, secret) Z85 keys; None: no CURVE
    discovery_file: Optional[Path] = None  # None: write none
    log_file: Optional[Path] = None  # named in the discovery file, for clients' error messages
    progress_interval_s: float = 0.1
    shared_memory: Optional[Path] = None  # folder of clients' shared-memory segments; None: inline frames only


def default_endpoint(discovery_file: Path) -> str:
    """A private endpoint: a socket beside the discovery file where IPC exists, else a free loopback port."""
    if os.name != "nt" and zmq.has("ipc"):
        return f"ipc://{discovery_file.with_suffix('.sock')}"
    return "tcp://127.0.0.1:*"


def is_loopback(endpoint: str) -> bool:
    """Whether binding ``endpoint`` keeps the engine reachable from this machine only."""
    scheme, _, address = endpoint.partition("://")
    if scheme in ("ipc", "inproc"):
        return True
    if scheme != "tcp" or ";" in address:
        return False
    host = address.rpartition(":")[0].strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_bind(endpoint: str, curve: bool) -> None:
    """Refuse an endpoint reachable from the network unless CURVE is on."""
    if "://" not in endpoint:
        raise BadInput(f"endpoint {endpoint!r} has no transport", "use tcp://HOST:PORT or ipc://PATH")
    if not curve and not is_loopback(endpoint):
        raise BadInput(
            f"refusing to bind {endpoint} without CURVE: anyone who can reach it could run jobs here",
            "bind tcp://127.0.0.1:PORT, or run `restyle keys generate` and pass --curve",
        )


class Server:
    """The engine's ROUTER loop, its job queue and its workers; ``stylizer_factory`` makes one per worker."""

    def __init__(self, config: ServerConfig, stylizer_factory: Callable[[], Any]) -> None:
        check_bind(config.endpoint, config.curve_keys is not None)
        if config.shared_memory is not None and not is_loopback(config.endpoint):
            raise BadInput("shared memory needs a loopback or ipc endpoint", "bind locally, or leave it off")
        if config.workers < 1 or config.max_queue < 0:
            raise BadInput("need at least one worker and a queue of 0 or more", "pass --workers 1 or more")
        self.config = config
        self.endpoint: Optional[str] = None
        self.queue = JobQueue(config.max_queue, config.max_queued_bytes)
        self.ready = threading.Event()
        self._factory = stylizer_factory
        self._stop = threading.Event()
        self._last_seen: Dict[bytes, float] = {}
        self._styles_requests: "queue.Queue[Tuple[bytes, str, int]]" = queue.Queue(MAX_STYLES_WAITING)
        self._started = time.monotonic()
        self._inbox_address = f"inproc://restyle-server-{os.getpid()}-{next(_instances)}"
        self._shm = MappingCache(config.shared_memory) if config.shared_memory else None

    def stop(self) -> None:
        """Ask :meth:`serve` to finish: pending jobs get a ``shutting_down`` error; thread-safe."""
        self._stop.set()

    def wait_ready(self, timeout_s: float) -> str:
        """The bound endpoint, once :meth:`serve` (in another thread) accepts clients."""
        if not self.ready.wait(timeout_s) or self.endpoint is None:
            raise RuntimeError(f"the server did not start within {timeout_s} s (see its log)")
        return self.endpoint

    def serve(self) -> None:
        """Make the stylizers, bind, write the discovery file and answer clients until :meth:`stop`."""
        stylizers = [self._factory() for _ in range(self.config.workers)]
        self._info = _engine_info(stylizers[0])
        ctx = zmq.Context()
        router = self._router = self._bind(ctx)
        inbox = ctx.socket(zmq.PULL)
        inbox.bind(self._inbox_address)
        workers = [threading.Thread(target=self._work, args=(ctx, s), name=f"restyle-worker-{i}", daemon=True)
                   for i, s in enumerate(stylizers)]
        workers.append(threading.Thread(target=self._serve_styles, args=(ctx,), name="restyle-styles", daemon=True))
        for w in workers:
            w.start()
        if self.config.discovery_file is not None:
            write_discovery(self.config.discovery_file, self._discovery_info())
        log.info("engine %s serving protocol %d on %s (%d worker(s), device %s)",
                 __version__, PROTOCOL, self.endpoint, self.config.workers, self._info["device"])
        self.ready.set()
        try:
            self._loop(router, inbox)
        finally:
            self._shutdown(router, inbox, workers)
            if all(not w.is_alive() for w in workers):
                ctx.term()
            else:
                log.warning("a worker did not stop; leaving its socket open")

    def _bind(self, ctx: zmq.Context) -> zmq.Socket:
        router = ctx.socket(zmq.ROUTER)
        router.setsockopt(zmq.ROUTER_MANDATORY, 1)
        router.setsockopt(zmq.ROUTER_HANDOVER, 1)
        router.setsockopt(zmq.MAXMSGSIZE, self.config.limits.max_frame_bytes)
        router.setsockopt(zmq.RCVHWM, 100)
        router.setsockopt(zmq.LINGER, 1000)
        router.setsockopt(zmq.HEARTBEAT_IVL, 2000)
        router.setsockopt(zmq.HEARTBEAT_TIMEOUT, 6000)
        if "[" in self.config.endpoint:
            router.setsockopt(zmq.IPV6, 1)
        if self.config.curve_keys is not None:
            public, secret = self.config.curve_keys
            router.setsockopt(zmq.CURVE_PUBLICKEY, public)
            router.setsockopt(zmq.CURVE_SECRETKEY, secret)
            router.setsockopt(zmq.CURVE_SERVER, 1)
        try:
            router.bind(self.config.endpoint)
        except zmq.ZMQError as e:
            router.close(linger=0)
            raise BadInput(f"cannot bind {self.config.endpoint}: {e}",
                           "pick another --endpoint, or stop the program that uses it") from None
        self.endpoint = router.getsockopt(zmq.LAST_ENDPOINT).decode()
        return router

    def _discovery_info(self) -> dict:
        keys = self.config.curve_keys
        return {
            "endpoint": self.endpoint,
            "pid": os.getpid(),
            "protocol": PROTOCOL,
            "engine_version": __version__,
            "curve_public_key": keys[0].decode() if keys else None,
            "log_file": str(self.config.log_file) if self.config.log_file else None,
            "started": time.time(),
        }

    def _loop(self, router: zmq.Socket, inbox: zmq.Socket) -> None:
        poller = zmq.Poller()
        poller.register(router, zmq.POLLIN)
        poller.register(inbox, zmq.POLLIN)
        while not self._stop.is_set():
            events = dict(poller.poll(POLL_MS))
            if router in events:
                _drain(router, self._handle)
            if inbox in events:
                _drain(inbox, self._send)
            self._expire_clients()
            if self._shm is not None:
                self._shm.trim()

    def _handle(self, owner: bytes, parts: Sequence[Any]) -> None:
        msg_id = None
        try:
            msg = deserialize(parts, CLIENT_TYPES, self._shm.view if self._shm else None)
            msg_id = msg.id
            log.debug("%s %s from client %s", msg.type, msg_id, owner.hex()[:12])
            if owner in self._last_seen:
                self._last_seen[owner] = time.monotonic()
            reply = getattr(self, f"_on_{msg.type}")(owner, msg)
        except ProtocolError as e:
            reply = _error(e.code, e.message, e.hint)
            msg_id = msg_id or e.msg_id
            log.warning("refused a message from client %s: %s", owner.hex()[:12], e.message)
        except RestyleError as e:
            reply = _error(e.code, e.message, e.hint)
            log.warning("refused a request from client %s: %s", owner.hex()[:12], e.message)
        except Exception as e:  # noqa: BLE001 - whatever arrives, the engine keeps serving
            log.exception("failed to answer a message from client %s", owner.hex()[:12])
            reply = _error("internal", f"the engine failed to answer: {e}", "see the engine log; report a bug")
        if reply is not None:
            msg_type, fields, frames = reply
            self._send(owner, serialize(msg_type, msg_id, fields, frames))

    def _send(self, owner: bytes, parts: List[Any]) -> None:
        try:
            self._router.send_multipart([owner] + list(parts), zmq.NOBLOCK, copy=False)
        except zmq.Again:
            log.warning("client %s is not reading; dropped a message to it", owner.hex()[:12])
        except zmq.ZMQError as e:
            if e.errno != zmq.EHOSTUNREACH:
                raise
            jobs = self.queue.cancel_all(owner)
            log.log(logging.WARNING if jobs else logging.DEBUG, "client %s is gone; dropped a message to it and "
                    "cancelled its %d job(s)", owner.hex()[:12], len(jobs))

    def _expire_clients(self) -> None:
        now = time.monotonic()
        owners = set(self.queue.owners())
        for owner in owners - set(self._last_seen):
            self._last_seen[owner] = now
        for owner in set(self._last_seen) - owners:
            del self._last_seen[owner]
        for owner, seen in list(self._last_seen.items()):
            if now - seen > self.config.client_timeout_s:
                jobs = self.queue.cancel_all(owner)
                del self._last_seen[owner]
                log.warning("client %s silent for %.1f s: cancelled its %d job(s)", owner.hex()[:12], now - seen,
                            len(jobs))

    def _on_ping(self, owner: bytes, msg: Message) -> Tuple[str, dict, list]:
        return "pong", dict(self._info, queue=self.queue.waiting, running=self.queue.running,
                            workers=self.config.workers, uptime_s=round(time.monotonic() - self._started, 3),
                            max_side=self.config.limits.max_side, max_pixels=self.config.limits.max_pixels,
                            max_frame_bytes=self.config.limits.max_frame_bytes,
                            curve=self.config.curve_keys is not None,
                            shm_dir=str(self.config.shared_memory) if self.config.shared_memory else None), []

    def _on_styles(self, owner: bytes, msg: Message) -> None:
        size = field_int(msg.header, "thumbnail_size", 96, 16, 512)
        try:
            self._styles_requests.put_nowait((owner, msg.id, size))
        except queue.Full:
            raise Busy(f"{MAX_STYLES_WAITING} styles requests are already waiting", "ask again in a moment") from None

    def _on_stylize(self, owner: bytes, msg: Message) -> Tuple[str, dict, list]:
        request = parse_stylize(msg, self.config.limits)
        job = self.queue.find(owner, msg.id)
        if job is None:
            job = Job(owner, msg.id, request)
            position = self.queue.submit(job)
            self._last_seen[owner] = time.monotonic()
            log.info("job %s of client %s queued at %d: %s", msg.id, owner.hex()[:12], position, describe(request))
        else:
            position = self.queue.position(job)
        return "accepted", {"position": position, "queue": self.queue.waiting}, []

    def _on_cancel(self, owner: bytes, msg: Message) -> Tuple[str, dict, list]:
        job_id = field_str(msg.header, "job", max_chars=MAX_ID_CHARS)
        job = self.queue.cancel(owner, job_id)
        if job is not None and job.state == "queued":
            self._send_job_error(owner, job_id, Cancelled())
        return "cancelling", {"job": job_id, "found": job is not None}, []

    def _on_status(self, owner: bytes, msg: Message) -> Tuple[str, dict, list]:
        return "status", {"queue": self.queue.waiting, "running": self.queue.running,
                          "workers": self.config.workers, "clients": len(self.queue.owners()),
                          "jobs": self.queue.of_owner(owner)}, []

    def _on_heartbeat(self, owner: bytes, msg: Message) -> Tuple[str, dict, list]:
        return "heartbeat", {"jobs": self.queue.of_owner(owner)}, []

    def _send_job_error(self, owner: bytes, job_id: str, error: RestyleError) -> None:
        self._send(owner, serialize("error", job_id, {"code": error.code, "message": error.message,
                                                       "hint": error.hint}))

    def _outbox(self, ctx: zmq.Context) -> zmq.Socket:
        out = ctx.socket(zmq.PUSH)
        out.setsockopt(zmq.SNDTIMEO, 1000)
        out.setsockopt(zmq.LINGER, 0)
        out.connect(self._inbox_address)
        return out

    def _serve_styles(self, ctx: zmq.Context) -> None:
        """Answer ``styles`` requests on a stylizer of its own, so thumbnails never hold up jobs or pings."""
        out = self._outbox(ctx)
        stylizer = None
        cache: Optional[Tuple[int, dict, List[Frame]]] = None
        try:
            while not self._stop.is_set():
                try:
                    owner, msg_id, size = self._styles_requests.get(timeout=POLL_MS / 1000)
                except queue.Empty:
                    continue
                try:
                    if cache is None or cache[0] != size:
                        stylizer = stylizer or self._factory()
                        cache = (size, *_styles_reply(stylizer, size))
                    reply = serialize("styles", msg_id, cache[1], cache[2])
                except RestyleError as e:
                    reply = serialize("error", msg_id, {"code": e.code, "message": e.message, "hint": e.hint})
                except Exception as e:  # noqa: BLE001 - a failed request must not take the thread down
                    log.exception("styles request %s failed", msg_id)
                    reply = serialize("error", msg_id, {"code": "internal", "message": f"the engine failed: {e}",
                                                        "hint": "see the engine log"})
                try:
                    out.send_multipart([owner] + reply, copy=False)
                except zmq.Again:
                    log.warning("dropped the styles reply %s: the server loop is not reading", msg_id)
        finally:
            out.close()

    def _work(self, ctx: zmq.Context, stylizer: Any) -> None:
        out = self._outbox(ctx)
        try:
            while not self._stop.is_set():
                job = self.queue.take(POLL_MS / 1000)
                if job is not None:
                    try:
                        self._run(job, stylizer, out)
                    finally:
                        self.queue.finish(job)
        finally:
            out.close()

    def _run(self, job: Job, stylizer: Any, out: zmq.Socket) -> None:
        def send(msg_type: str, fields: dict, frames: Sequence[Frame] = ()) -> None:
            if job.dropped:
                return
            try:
                out.send_multipart([job.owner] + serialize(msg_type, job.id, fields, frames), copy=False)
            except zmq.Again:
                log.warning("dropped a %s message of job %s: the server loop is not reading", msg_type, job.id)

        started = time.monotonic()
        try:
            job.token.check()
            content, kwargs = stylizer_call(job.request)
            reporter = _ProgressReporter(job, send, self.config.progress_interval_s)
            result = stylizer.stylize(content, progress=reporter, cancel=job.token, **kwargs)
            if getattr(result, "shape", None) != content.shape or result.dtype != content.dtype:
                raise RuntimeError(f"the stylizer returned {getattr(result, 'shape', type(result))} "
                                   f"instead of {content.shape} {content.dtype}")
            elapsed = time.monotonic() - started
            send("result", {"elapsed_s": round(elapsed, 4)}, [result_frame(job.request, result)])
            log.info("job %s done in %.2f s", job.id, elapsed)
        except RestyleError as e:
            log.info("job %s ended: %s", job.id, e)
            send("error", {"code": e.code, "message": e.message, "hint": e.hint})
        except Exception as e:  # noqa: BLE001 - a failed job must not take the worker down
            log.exception("job %s failed", job.id)
            send("error", {"code": "internal", "message": f"the engine failed: {e}",
                           "hint": "see the engine log; try a smaller image or another method"})

    def _shutdown(self, router: zmq.Socket, inbox: zmq.Socket, workers: List[threading.Thread]) -> None:
        self._stop.set()
        for job in self.queue.cancel_all():
            self._send(job.owner, serialize("error", job.id, {
                "code": "shutting_down", "message": "the engine stopped before the job finished",
                "hint": "start the engine again and resend the job"}))
        for w in workers:
            w.join(timeout=5.0)
        if self.config.discovery_file is not None:
            remove_discovery(self.config.discovery_file, os.getpid())
        inbox.close(linger=0)
        router.close()
        if self._shm is not None:
            self._shm.close()
        if self.endpoint and self.endpoint.startswith("ipc://"):
            Path(self.endpoint[len("ipc://"):]).unlink(missing_ok=True)
        log.info("engine stopped")


class _ProgressReporter:
    """The ``progress`` callback of one job: records it and sends at most one report per interval."""

    def __init__(self, job: Job, send: Callable[..., None], interval_s: float) -> None:
        self.job, self.send, self.interval_s = job, send, interval_s
        self.last_sent = self.last_preview = float("-inf")

    def __call__(self, progress: Progress) -> None:
        self.job.progress = progress
        now = time.monotonic()
        if now - self.last_sent >= self.interval_s or progress.done >= progress.total:
            self.last_sent = now
            eta = progress.eta_s
            self.send("progress", {"done": int(progress.done), "total": int(progress.total),
                                   "stage": str(progress.stage),
                                   "eta_s": round(eta, 2) if eta is not None and math.isfinite(eta) else None})
        if progress.preview is not None and now - self.last_preview >= PREVIEW_INTERVAL_S:
            self.last_preview = now
            self.send("preview", {"done": int(progress.done), "total": int(progress.total)},
                      [array_frame("image", progress.preview)])


def _engine_info(stylizer: Any) -> Dict[str, Any]:
    """The static part of ``pong``: versions, device and the context margins plugins read around a selection."""
    margins = {}
    for method in METHODS:
        try:
            margins[method] = int(stylizer.context_margin(method))
        except Exception as e:  # noqa: BLE001 - a method that cannot load must not stop the engine
            log.warning("method %s is unavailable: %s", method, e)
    return {"engine_version": __version__, "pid": os.getpid(), "device": str(stylizer.device),
            "context_margin": margins.get("arbitrary", DEFAULT_CONTEXT_MARGIN), "context_margins": margins,
            "style_scale_range": list(STYLE_SCALE_RANGE), "style_scale_auto_side": AUTO_REFERENCE_SIDE,
            "features": list(FEATURES)}


def _styles_reply(stylizer: Any, size: int) -> Tuple[dict, List[Frame]]:
    """The ``styles`` reply's fields and thumbnail frames for thumbnails of ``size`` pixels."""
    entries, frames = [], []
    for preset in stylizer.presets():
        frame = array_frame(f"thumb{preset.index}", stylizer.preset_thumbnail(preset.name, size))
        entries.append({"name": preset.name, "label": preset.label, "index": preset.index, "thumbnail": frame.name})
        frames.append(frame)
    return {"styles": entries}, frames


def _error(code: str, message: str, hint: str) -> Tuple[str, dict, list]:
    return "error", {"code": code, "message": message, "hint": hint}, []


def _drain(socket: zmq.Socket, handle) -> None:
    """Pass up to BATCH waiting messages of ``socket`` to ``handle(identity, frames)``, without blocking."""
    for _ in range(BATCH):
        try:
            parts = socket.recv_multipart(zmq.NOBLOCK, copy=False)
        except zmq.Again:
            return
        handle(parts[0].bytes, parts[1:])
