"""Client of the local engine (protocol v1): finds or starts it, sends pixels, waits for results.

Standard library + pyzmq only, Python >= 3.8: it runs inside Krita's and GIMP's Python, where numpy
and torch may be absent. Pixel buffers travel as raw bytes. One :class:`EngineClient` per thread.
"""
from __future__ import annotations

import itertools
import logging
import os
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Union

import zmq

from .discovery import discovery_path, ensure_runtime_dir, is_private_dir, read_discovery
from .keys import public_key
from .protocol import ENGINE_TYPES, ITEMSIZE, Frame, Message, ProtocolError, deserialize, frame_nbytes, serialize
from .shm import MIN_BYTES, SegmentPool, ShmError
from .shm import available as shm_available

log = logging.getLogger("restyle.client")

HEARTBEAT_S = 1.0  # how often a waiting client tells the engine it is still there
POLL_S = 0.05  # how often the cancel flag is polled
CANCEL_GRACE_S = 5.0  # how long to wait for the engine to confirm a cancel
ATTEMPTS = 3  # Lazy Pirate: tries of a request, each on a fresh socket
START_HINT = "start it with `restyle serve`, or set the restyle executable so the plugin starts it"
# glibc >= 2.35 then backs the engine's heap with transparent huge pages where the system offers them
# (madvise mode): the first job after an idle spell page-faults its memory in about 15 % faster.
HUGE_PAGES_TUNABLE = "glibc.malloc.hugetlb=1"


def engine_environment(environ: Dict[str, str], platform: str) -> Dict[str, str]:
    """The environment a started engine gets: the caller's, plus huge-page heap on Linux (see above).

    Left alone when the caller already sets ``glibc.malloc.hugetlb`` or opts out with ``RESTYLE_MALLOC=system``.
    """
    env = dict(environ)
    tunables = env.get("GLIBC_TUNABLES", "")
    if not platform.startswith("linux") or "glibc.malloc.hugetlb" in tunables:
        return env
    if env.get("RESTYLE_MALLOC", "").lower() == "system":
        return env
    env["GLIBC_TUNABLES"] = f"{tunables}:{HUGE_PAGES_TUNABLE}" if tunables else HUGE_PAGES_TUNABLE
    return env


class EngineError(Exception):
    """The engine refused or failed a request: ``code`` is stable, ``message`` says what, ``hint`` what to do."""

    def __init__(self, code: str, message: str, hint: str = "") -> None:
        super().__init__(f"{message} ({hint})" if hint else message)
        self.code = code
        self.message = message
        self.hint = hint


class EngineNotRunning(EngineError):
    """Nothing answers: no engine, the engine died, or starting it failed."""

    def __init__(self, message: str, hint: str = START_HINT) -> None:
        super().__init__("not_running", message, hint)


class JobCancelled(EngineError):
    """The job was cancelled before it finished."""

    def __init__(self, message: str = "the job was cancelled", hint: str = "") -> None:
        super().__init__("cancelled", message, hint)


@dataclass(frozen=True)
class Image:
    """Pixels as raw bytes: ``height`` rows of ``width`` x ``channels`` little-endian values of ``dtype``."""

    width: int
    height: int
    channels: int
    dtype: str
    data: Any  # bytes-like: bytes, bytearray, memoryview

    def __post_init__(self) -> None:
        if self.dtype not in ITEMSIZE:
            raise ValueError(f"Image dtype {self.dtype!r} is not supported; use one of {', '.join(ITEMSIZE)}")
        if not all(isinstance(v, int) and v > 0 for v in (self.width, self.height, self.channels)):
            raise ValueError("Image width, height and channels must be positive integers")
        size = memoryview(self.data).nbytes
        if size != self.nbytes:
            raise ValueError(f"Image data has {size} bytes; {self.width}x{self.height}x{self.channels} "
                             f"{self.dtype} needs {self.nbytes}")

    @property
    def nbytes(self) -> int:
        return frame_nbytes((self.height, self.width, self.channels), self.dtype)

    def frame(self, name: str) -> Frame:
        """This image as a protocol frame of shape ``[height, width, channels]``."""
        return Frame(name, (self.height, self.width, self.channels), self.dtype, self.data)

    @staticmethod
    def from_frame(frame: Frame) -> "Image":
        """An image from a received ``[height, width, channels]`` frame (no copy)."""
        if len(frame.shape) != 3:
            raise EngineError("bad_reply", f"the engine sent an image of shape {list(frame.shape)}",
                              "update the engine and the plugin to the same version")
        height, width, channels = frame.shape
        return Image(width, height, channels, frame.dtype, frame.data)


@dataclass(frozen=True)
class Result:
    """A finished job: the stylized image (same size, channels and dtype as the content)."""

    image: Image
    job_id: str
    elapsed_s: float


class EngineClient:
    """Talks to one engine: ``endpoint`` or the discovery file; autostarts it with ``start_command``."""

    def __init__(self, endpoint: Optional[str] = None, start_command: Optional[Sequence[str]] = None,
                 timeout_s: float = 30.0, server_public_key: Optional[Union[str, bytes]] = None) -> None:
        if timeout_s <= 0:
            raise ValueError("timeout_s must be positive")
        self.endpoint = endpoint
        self.start_command = list(start_command) if start_command else None
        self.timeout_s = timeout_s
        self._server_key = public_key(server_public_key) if server_public_key else None
        self._ctx = zmq.Context()
        self._identity = b"rc-" + uuid.uuid4().hex.encode()
        self._socket: Optional[zmq.Socket] = None
        self._ids = itertools.count(1)
        self._process: Optional[subprocess.Popen] = None
        self._pong: Optional[dict] = None
        self._pool: Optional[SegmentPool] = None
        self._shm_refused = False

    def close(self) -> None:
        """Close the connection and remove this client's shared-memory files; an engine it started keeps running."""
        self._reset()
        if self._pool is not None:
            self._pool.close()
        self._ctx.term()

    def __enter__(self) -> "EngineClient":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def ensure_running(self, wait_s: float = 60.0, on_status: Optional[Callable[[str], None]] = None) -> dict:
        """The engine's ``pong``, after starting the engine with ``start_command`` if nothing answers."""
        try:
            return self.ping(timeout_s=min(2.0, wait_s))
        except EngineNotRunning:
            if not self.start_command:
                raise
        notify = on_status or (lambda text: None)
        notify("starting the engine")
        process, start_log = self._spawn()
        started = time.monotonic()
        while time.monotonic() - started < wait_s:
            code = process.poll()
            if code is not None:
                raise EngineNotRunning(f"the engine exited with code {code} while starting: {_last_line(start_log)}",
                                       f"run `{' '.join(self.start_command)}` in a terminal to see why")
            try:
                return self.ping(timeout_s=min(1.0, wait_s))
            except EngineNotRunning:
                notify(f"waiting for the engine to start ({time.monotonic() - started:.0f} s)")
                time.sleep(0.2)
        raise EngineNotRunning(f"the engine did not answer within {wait_s:g} s of starting",
                               f"see {start_log} and the engine log; a first start can take longer")

    def ping(self, timeout_s: float = 5.0) -> dict:
        """The engine's ``pong``: versions, device, queue length, context margin, limits."""
        self._pong = dict(self._call("ping", {}, "pong", timeout_s).header)
        return dict(self._pong)

    def status(self, timeout_s: float = 5.0) -> dict:
        """The engine's queue and this client's jobs."""
        return dict(self._call("status", {}, "status", timeout_s).header)

    def styles(self, thumbnail_size: int = 96) -> List[dict]:
        """The engine's preset styles: ``name``, ``label``, ``index`` and a ``thumbnail`` :class:`Image`."""
        msg = self._call("styles", {"thumbnail_size": thumbnail_size}, "styles", self.timeout_s)
        styles = []
        for entry in msg.header.get("styles", []):
            frame = msg.frames.get(entry.get("thumbnail", ""))
            styles.append(dict(entry, thumbnail=Image.from_frame(frame) if frame else None))
        return styles

    def stylize(self, content: Image, styles: Union[dict, Sequence[dict], None] = None, mask: Optional[Image] = None,
                options: Optional[Dict[str, Any]] = None,
                on_progress: Optional[Callable[[dict], None]] = None,
                cancel: Optional[Callable[[], bool]] = None,
                regions: Optional[Sequence[dict]] = None) -> Result:
        """Stylize ``content`` on the engine; raises JobCancelled, EngineError or EngineNotRunning.

        Either ``styles`` (with an optional ``mask``) or ``regions``: a list of
        ``{"styles": [...], "mask": Image or None, "strength", "feather", "invert_mask"}``, each
        region with its own styles (the last three default to ``options``).
        """
        fields, inline = _stylize_message(content, styles, mask, options, regions)
        for feature in _features_needed(fields):
            self._require_feature(feature)
        frames = self._shared_frames(content, inline)
        try:
            return self._run_job(content, fields, frames, on_progress, cancel)
        except EngineError as e:
            if e.code != "shm_unavailable" or frames is inline:
                raise
            log.info("the engine cannot use shared memory (%s); sending the pixels inline", e.message)
            self._shm_refused = True
            return self._run_job(content, fields, inline, on_progress, cancel)

    def _require_feature(self, name: str) -> None:
        """Raise EngineError (code ``unsupported``) when the engine does not list ``name`` in its pong."""
        if self._pong is None:
            self.ping(timeout_s=min(5.0, self.timeout_s))
        features = (self._pong or {}).get("features")
        if not isinstance(features, list) or name not in features:
            raise EngineError("unsupported", f"this engine ({(self._pong or {}).get('engine_version', 'unknown version')}) "
                              f"does not take {name} requests", "update restyle on the engine's machine")

    def _run_job(self, content: Image, fields: dict, frames: List[Frame],
                 on_progress: Optional[Callable[[dict], None]], cancel: Optional[Callable[[], bool]]) -> Result:
        job_id = self._new_id("job")
        wait = _JobWait(job_id, content, on_progress)
        self._send("stylize", job_id, fields, frames)
        try:
            return self._wait_for(wait, fields, frames, cancel)
        except BaseException:
            if not wait.finished and not wait.cancel_sent:
                self._send_quietly("cancel", {"job": job_id})
            raise

    def _shared_frames(self, content: Image, frames: List[Frame]) -> List[Frame]:
        """``frames`` with the content (and the result) in shared memory, when the engine is on this machine."""
        if content.nbytes < MIN_BYTES or self._shm_refused or not shm_available():
            return frames
        if self._pong is None:
            self.ping(timeout_s=min(5.0, self.timeout_s))
        folder = (self._pong or {}).get("shm_dir")
        if not isinstance(folder, str) or not is_private_dir(Path(folder)):
            return frames
        if self._pool is None or self._pool.folder != Path(folder):
            if self._pool is not None:
                self._pool.close()
            self._pool = SegmentPool(Path(folder))
        shape = (content.height, content.width, content.channels)
        try:
            source = self._pool.acquire(content.nbytes)
            with source.view(content.nbytes) as view:
                view[:] = memoryview(content.data).cast("B")
            target = self._pool.acquire(content.nbytes, exclude=(source,))
        except (OSError, ShmError) as e:
            log.info("shared memory unusable (%s); sending the pixels inline", e)
            self._shm_refused = True
            return frames
        return ([Frame("content", shape, content.dtype, None, source.name)] + frames[1:]
                + [Frame("output", shape, content.dtype, None, target.name)])

    def _own_segment(self, name: str, nbytes: int) -> memoryview:
        """A view of this client's segment ``name``, where the engine wrote a result."""
        segment = self._pool.find(name) if self._pool is not None else None
        if segment is None or segment.size < nbytes:
            raise ShmError(f"{name!r} is not a shared-memory segment of this client")
        return segment.view(nbytes)

    def _wait_for(self, wait: "_JobWait", fields: dict, frames: List[Frame],
                  cancel: Optional[Callable[[], bool]]) -> Result:
        retry_s = max(3 * HEARTBEAT_S, self.timeout_s / ATTEMPTS)
        last_heard = last_retry = time.monotonic()
        next_beat = last_heard + HEARTBEAT_S
        while True:
            now = time.monotonic()
            if now - last_heard > self.timeout_s:
                raise EngineNotRunning(
                    f"the engine stopped answering for {self.timeout_s:g} s during job {wait.job_id}", self._log_hint())
            if cancel is not None and not wait.cancel_sent and cancel():
                self._send("cancel", self._new_id("cancel"), {"job": wait.job_id})
                wait.cancel_sent = now
            if wait.cancel_sent and now - wait.cancel_sent > CANCEL_GRACE_S:
                raise JobCancelled("the job was cancelled; the engine had not confirmed it yet")
            if now - last_heard > retry_s and now - last_retry > retry_s:
                log.info("no word from the engine for %.1f s; reconnecting", now - last_heard)
                self._reset()
                last_retry = now
                next_beat = now
            if now >= next_beat:
                self._send_quietly("heartbeat", {})
                next_beat = now + HEARTBEAT_S
            msg = self._receive(POLL_S)
            if msg is None:
                continue
            last_heard = time.monotonic()
            if msg.type == "heartbeat" and wait.lost(msg.header.get("jobs")):
                if wait.resent >= ATTEMPTS:
                    raise EngineError("job_lost", f"the engine lost job {wait.job_id} {wait.resent + 1} times",
                                      f"the image may exceed the engine's limits; {self._log_hint()}")
                log.info("the engine no longer knows job %s; sending it again", wait.job_id)
                wait.resent += 1
                self._send("stylize", wait.job_id, fields, frames)
            elif msg.id == wait.job_id:
                result = wait.on_message(msg)
                if result is not None:
                    return result

    def _call(self, msg_type: str, fields: dict, reply_type: str, timeout_s: float) -> Message:
        """Send a request and wait for its reply, retrying on a fresh socket (Lazy Pirate)."""
        msg_id = self._new_id(msg_type)
        deadline = time.monotonic() + timeout_s
        for _ in range(ATTEMPTS):
            self._send(msg_type, msg_id, fields)
            attempt_end = min(deadline, time.monotonic() + timeout_s / ATTEMPTS)
            while time.monotonic() < attempt_end:
                msg = self._receive(attempt_end - time.monotonic())
                if msg is None or msg.id != msg_id:
                    continue
                if msg.type == "error":
                    raise _engine_error(msg)
                if msg.type == reply_type:
                    return msg
            self._reset()
        raise EngineNotRunning(f"the engine at {self._where()} did not answer within {timeout_s:g} s",
                               self._log_hint())

    def _new_id(self, kind: str) -> str:
        return f"{kind}-{self._identity[3:11].decode()}-{next(self._ids)}"

    def _connection(self) -> zmq.Socket:
        if self._socket is None:
            endpoint, key = self._target()
            sock = self._ctx.socket(zmq.DEALER)
            sock.setsockopt(zmq.LINGER, 0)
            # A send waits for a connection at most this long: a peer that refuses the handshake (CURVE with
            # the wrong key, or none) can leave the socket with no pipe, and an unbounded send then hangs.
            sock.setsockopt(zmq.SNDTIMEO, max(1, int(self.timeout_s * 1000)))
            sock.setsockopt(zmq.ROUTING_ID, self._identity)
            if key:
                public, secret = zmq.curve_keypair()
                sock.setsockopt(zmq.CURVE_SERVERKEY, key)
                sock.setsockopt(zmq.CURVE_PUBLICKEY, public)
                sock.setsockopt(zmq.CURVE_SECRETKEY, secret)
            try:
                sock.connect(endpoint)
            except zmq.ZMQError as e:
                sock.close()
                raise EngineNotRunning(f"cannot connect to {endpoint}: {e}",
                                       "check the engine endpoint in the plugin settings") from None
            self._socket = sock
        return self._socket

    def _target(self) -> Tuple[str, Optional[bytes]]:
        if self.endpoint:
            return self.endpoint, self._server_key
        info = read_discovery()
        if info is None:
            raise EngineNotRunning(f"no engine is running (no discovery file at {discovery_path()})")
        key = info.get("curve_public_key")
        return info["endpoint"], self._server_key or (public_key(key) if key else None)

    def _where(self) -> str:
        return self.endpoint or str((read_discovery() or {}).get("endpoint", discovery_path()))

    def _log_hint(self) -> str:
        log_file = None if self.endpoint else (read_discovery() or {}).get("log_file")
        return f"is the engine running? {f'see its log at {log_file}' if log_file else START_HINT}"

    def _reset(self) -> None:
        if self._socket is not None:
            self._socket.close(linger=0)
            self._socket = None

    def _send(self, msg_type: str, msg_id: str, fields: dict, frames: Sequence[Frame] = ()) -> None:
        try:
            self._connection().send_multipart(serialize(msg_type, msg_id, fields, frames), copy=False)
        except zmq.Again:
            self._reset()
            raise EngineNotRunning(f"the engine at {self._where()} took no message for {self.timeout_s:g} s",
                                   self._log_hint()) from None

    def _send_quietly(self, msg_type: str, fields: dict) -> None:
        """Send a small message whose loss is harmless (heartbeat, cancel on the way out)."""
        try:
            self._send(msg_type, self._new_id(msg_type), fields)
        except (EngineNotRunning, zmq.ZMQError) as e:
            log.info("could not send %s: %s", msg_type, e)

    def _receive(self, wait_s: float) -> Optional[Message]:
        sock = self._connection()
        if not sock.poll(max(0, int(wait_s * 1000))):
            return None
        parts = sock.recv_multipart(copy=False)
        try:
            return deserialize(parts, ENGINE_TYPES, self._own_segment)
        except ProtocolError as e:
            if e.code == "unsupported_protocol":
                raise EngineError(e.code, e.message, e.hint) from None
            log.warning("ignored a malformed message from the engine: %s", e.message)
            return None

    def _spawn(self) -> Tuple[subprocess.Popen, str]:
        start_log = ensure_runtime_dir() / "engine-start.log"
        kwargs: Dict[str, Any] = {}
        if os.name == "nt":
            kwargs["creationflags"] = subprocess.CREATE_NEW_PROCESS_GROUP | subprocess.DETACHED_PROCESS
        else:
            kwargs["start_new_session"] = True
        try:
            with open(str(start_log), "wb") as err:
                self._process = subprocess.Popen(self.start_command, stdin=subprocess.DEVNULL,
                                                 stdout=subprocess.DEVNULL, stderr=err, close_fds=True,
                                                 env=engine_environment(dict(os.environ), sys.platform), **kwargs)
        except OSError as e:
            raise EngineNotRunning(f"cannot start the engine with {self.start_command}: {e}",
                                   "set the path of the restyle executable in the plugin settings") from None
        return self._process, str(start_log)


class _JobWait:
    """What a client knows of one job while it waits: progress so far, cancel, its end."""

    def __init__(self, job_id: str, content: Image, on_progress: Optional[Callable[[dict], None]]) -> None:
        self.job_id = job_id
        self.content = content
        self.on_progress = on_progress
        self.started = time.monotonic()
        self.finished = False
        self.cancel_sent = 0.0  # when the cancel was sent; 0: not sent
        self.missing = 0  # consecutive heartbeats that did not list the job
        self.resent = 0  # times the job was sent again

    def lost(self, jobs: Any) -> bool:
        """Whether two heartbeats in a row said the engine has no such job (it restarted or dropped it)."""
        listed = isinstance(jobs, list) and any(isinstance(j, dict) and j.get("job") == self.job_id for j in jobs)
        self.missing = 0 if listed else self.missing + 1
        if self.missing >= 2 and not self.cancel_sent:
            self.missing = 0
            return True
        return False

    def on_message(self, msg: Message) -> Optional[Result]:
        """Handle a message about this job; the :class:`Result` once it is done."""
        header = msg.header
        if msg.type == "error":
            self.finished = True
            raise _engine_error(msg)
        if msg.type == "result":
            self.finished = True
            if self.cancel_sent:
                raise JobCancelled("the job was cancelled (it had just finished)")
            return Result(self._result_image(msg), self.job_id, time.monotonic() - self.started)
        if self.on_progress is None:
            return None
        if msg.type == "accepted":
            self.on_progress({"done": 0, "total": 0, "stage": "queued", "eta_s": None,
                              "position": header.get("position", 0)})
        elif msg.type in ("progress", "preview"):
            report = {"done": header.get("done", 0), "total": header.get("total", 0),
                      "stage": header.get("stage", ""), "eta_s": header.get("eta_s")}
            if msg.type == "preview" and "image" in msg.frames:
                report["preview"] = Image.from_frame(msg.frames["image"])
            self.on_progress(report)
        return None

    def _result_image(self, msg: Message) -> Image:
        frame = msg.frames.get("image")
        image = Image.from_frame(frame) if frame is not None else None
        c = self.content
        if image is None or (image.width, image.height, image.channels, image.dtype) != (
                c.width, c.height, c.channels, c.dtype):
            raise EngineError("bad_reply", "the engine returned an image unlike the content it was sent",
                              "update the engine and the plugin to the same version")
        return image


def _stylize_message(content: Image, styles: Union[dict, Sequence[dict], None], mask: Optional[Image],
                     options: Optional[Dict[str, Any]], regions: Optional[Sequence[dict]] = None) -> Tuple[dict, List[Frame]]:
    """The header fields and frames of a ``stylize`` request; raise ValueError on bad arguments."""
    if not isinstance(content, Image) or content.channels not in (3, 4):
        raise ValueError("content must be an Image with 3 (RGB) or 4 (RGBA) channels")
    frames = [content.frame("content")]
    fields: Dict[str, Any] = {"options": dict(options or {})}
    if regions is None:
        if styles is None:
            raise ValueError("give styles (or regions)")
        if mask is not None:
            frames.append(_mask_frame(mask, content, "mask"))
        fields["styles"] = _style_entries(styles, "style", frames)
        return fields, frames
    if styles is not None or mask is not None:
        raise ValueError("give either styles (and a mask) or regions, not both")
    if isinstance(regions, dict) or not regions:
        raise ValueError("regions must be a non-empty list of dicts")
    entries = []
    for r, region in enumerate(regions):
        if not isinstance(region, dict) or "styles" not in region:
            raise ValueError('each region must be a dict with "styles" and optionally "mask", "strength", '
                             '"feather" and "invert_mask"')
        entry = {k: region[k] for k in ("strength", "feather", "invert_mask") if k in region}
        entry["styles"] = _style_entries(region["styles"], f"region{r}_style", frames)
        if region.get("mask") is not None:
            frames.append(_mask_frame(region["mask"], content, f"region{r}_mask"))
            entry["mask"] = f"region{r}_mask"
        entries.append(entry)
    fields["regions"] = entries
    return fields, frames


def _features_needed(fields: dict) -> List[str]:
    """The pong ``features`` a request needs: an engine without them would refuse or ignore those fields."""
    options = fields["options"]
    needed = ["regions"] if "regions" in fields else []
    if "detail" in options:
        needed.append("detail")
    if options.get("style_scale") == "auto" or "canvas_size" in options:
        needed.append("style_scale_auto")
    return needed


def _mask_frame(mask: Image, content: Image, name: str) -> Frame:
    if (not isinstance(mask, Image) or mask.channels != 1 or mask.dtype not in ("uint8", "float32")
            or (mask.width, mask.height) != (content.width, content.height)):
        raise ValueError("mask must be a 1-channel uint8 or float32 Image the size of the content")
    return mask.frame(name)


def _style_entries(styles: Union[dict, Sequence[dict]], prefix: str, frames: List[Frame]) -> List[dict]:
    """Header entries of ``styles``; style images are appended to ``frames`` as ``{prefix}{i}``."""
    entries = []
    for i, style in enumerate([styles] if isinstance(styles, dict) else list(styles)):
        if not isinstance(style, dict) or ("preset" in style) == ("image" in style):
            raise ValueError('each style must be {"preset": NAME, "weight": W} or {"image": Image, "weight": W}')
        entry = {"weight": style.get("weight", 1.0)}
        if "preset" in style:
            entry["preset"] = style["preset"]
        else:
            if not isinstance(style["image"], Image):
                raise ValueError("a style's 'image' must be an Image")
            frames.append(style["image"].frame(f"{prefix}{i}"))
            entry["image"] = f"{prefix}{i}"
        entries.append(entry)
    if not entries:
        raise ValueError("give at least one style")
    return entries


def _engine_error(msg: Message) -> EngineError:
    code = str(msg.header.get("code", "error"))
    message = str(msg.header.get("message", "the engine reported an error"))
    hint = str(msg.header.get("hint", ""))
    return JobCancelled(message, hint) if code == "cancelled" else EngineError(code, message, hint)


def _last_line(path: str) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            lines = [line.strip() for line in f if line.strip()]
    except OSError:
        return "(no output)"
    return lines[-1] if lines else "(no output)"
