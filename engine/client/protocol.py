"""Protocol v1 framing: a UTF-8 JSON header frame, then the raw binary frames it describes.

Both sides use :func:`serialize` to build a message and :func:`deserialize` to check and read one.
Standard library only (pyzmq frames are accepted duck-typed), so it runs inside Krita's and GIMP's
Python >= 3.8. Binary frames are little-endian, C-ordered arrays. A frame described with ``"shm"``
has no binary part: its bytes are in the named shared-memory segment (see ``shm.py``).
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Tuple

PROTOCOL = 1
MAX_HEADER_BYTES = 64 * 1024
MAX_FRAMES = 32
MAX_ID_CHARS = 128
MAX_NAME_CHARS = 64
MAX_DIMS = 4
ITEMSIZE = {"uint8": 1, "uint16": 2, "float16": 2, "float32": 4}

CLIENT_TYPES = frozenset({"ping", "styles", "stylize", "cancel", "status", "heartbeat"})
ENGINE_TYPES = frozenset(
    {"pong", "styles", "accepted", "progress", "preview", "result", "error", "cancelling", "status", "heartbeat"}
)


class ProtocolError(Exception):
    """A message that breaks protocol v1; becomes an ``error`` reply with ``code``, ``message``, ``hint``."""

    def __init__(self, message: str, hint: str = "", code: str = "bad_message", msg_id: Optional[str] = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.hint = hint
        self.msg_id = msg_id


@dataclass(frozen=True)
class Frame:
    """One binary frame: a named C-ordered little-endian array of ``shape`` and ``dtype``."""

    name: str
    shape: Tuple[int, ...]
    dtype: str
    data: Any  # bytes-like (bytes, bytearray, memoryview, numpy array, zmq.Frame buffer)
    shm: Optional[str] = None  # the shared-memory segment holding the bytes instead of a binary part

    @property
    def nbytes(self) -> int:
        return frame_nbytes(self.shape, self.dtype)

    def describe(self) -> Dict[str, Any]:
        """The frame's entry in the header's ``frames`` list."""
        entry = {"name": self.name, "shape": list(self.shape), "dtype": self.dtype}
        if self.shm is not None:
            entry["shm"] = self.shm
        return entry


@dataclass(frozen=True)
class Message:
    """A checked message: its header fields (without ``frames``) and its binary frames by name."""

    header: Dict[str, Any]
    frames: Dict[str, Frame]

    @property
    def type(self) -> str:
        return self.header["type"]

    @property
    def id(self) -> Optional[str]:
        """The request's id; None only in an ``error`` reply to a message whose id was unreadable."""
        return self.header["id"]


def frame_nbytes(shape: Sequence[int], dtype: str) -> int:
    """Bytes taken by a C-ordered array of ``shape`` and ``dtype``."""
    n = ITEMSIZE[dtype]
    for side in shape:
        n *= side
    return n


def serialize(msg_type: str, msg_id: Optional[str], fields: Optional[Dict[str, Any]] = None,
              frames: Iterable[Frame] = ()) -> List[Any]:
    """The multipart message for a header and frames: send it with ``send_multipart(parts, copy=False)``."""
    frames = list(frames)
    header: Dict[str, Any] = {"protocol": PROTOCOL, "id": msg_id, "type": msg_type}
    reserved = set(header).union(["frames"]).intersection(fields or {})
    if reserved:
        raise ValueError(f"fields {sorted(reserved)} are set by serialize itself")
    header.update(fields or {})
    header["frames"] = [f.describe() for f in frames]
    for f in frames:
        size = f.nbytes if f.shm is not None else _buffer(f.data).nbytes
        if size != f.nbytes:
            raise ValueError(f"frame {f.name!r} holds {size} bytes; shape {list(f.shape)} {f.dtype} needs {f.nbytes}")
    text = json.dumps(header, allow_nan=False, separators=(",", ":"))
    return [text.encode("utf-8")] + [f.data for f in frames if f.shm is None]


SharedMemory = Callable[[str, int], Any]  # (segment name, bytes needed) -> buffer; raises on a bad segment


def deserialize(parts: Sequence[Any], accepted_types: Iterable[str], shm: Optional[SharedMemory] = None) -> Message:
    """Check a received multipart message against protocol v1 and return it; raise :class:`ProtocolError`.

    ``shm`` maps the segments that frames name; None refuses such frames.
    """
    if not parts:
        raise ProtocolError("empty message", "send a JSON header frame first")
    header = _parse_header(_buffer(parts[0]))
    msg_id = header.get("id")
    msg_id = msg_id if isinstance(msg_id, str) and 0 < len(msg_id) <= MAX_ID_CHARS else None
    version = header.get("protocol")
    if version != PROTOCOL or isinstance(version, bool):
        raise ProtocolError(
            f"unsupported protocol {_shorten(repr(version))}; this side speaks protocol {PROTOCOL}",
            f"update the plugin or the engine so both speak protocol {PROTOCOL}",
            code="unsupported_protocol", msg_id=msg_id,
        )
    if msg_id is None and not (header.get("id") is None and header.get("type") == "error"):
        raise ProtocolError(f"header 'id' must be a string of 1 to {MAX_ID_CHARS} characters",
                            "give every request an id of your own")
    msg_type = header.get("type")
    accepted = sorted(accepted_types)
    if msg_type not in accepted:
        raise ProtocolError(f"unknown message type {msg_type!r}", f"use one of {', '.join(accepted)}",
                            code="unknown_type", msg_id=msg_id)
    frames = _parse_frames(header.pop("frames", None), parts[1:], msg_id, shm)
    return Message(header, frames)


def _parse_header(raw: memoryview) -> Dict[str, Any]:
    if raw.nbytes > MAX_HEADER_BYTES:
        raise ProtocolError(f"header is {raw.nbytes} bytes, more than {MAX_HEADER_BYTES}",
                            "send pixels as binary frames, not inside the header")
    try:
        header = json.loads(bytes(raw).decode("utf-8"), parse_constant=_reject_constant, parse_float=_finite_float)
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        raise ProtocolError(f"header is not UTF-8 JSON: {_shorten(str(e))}", "frame 0 must be a JSON object") from None
    if not isinstance(header, dict):
        raise ProtocolError("header is not a JSON object", "frame 0 must be a JSON object")
    return header


def _parse_frames(specs: Any, parts: Sequence[Any], msg_id: Optional[str],
                  shm: Optional[SharedMemory]) -> Dict[str, Frame]:
    if specs is None:
        specs = []
    if not isinstance(specs, list) or len(specs) > MAX_FRAMES:
        raise ProtocolError(f"header 'frames' must be a list of at most {MAX_FRAMES} frame descriptions",
                            "describe each binary frame as {name, shape, dtype}", msg_id=msg_id)
    inline = [s for s in specs if not (isinstance(s, dict) and "shm" in s)]
    if len(inline) != len(parts):
        raise ProtocolError(f"header describes {len(inline)} binary frames but {len(parts)} arrived",
                            "send exactly one binary frame per entry of 'frames' without 'shm'", msg_id=msg_id)
    frames: Dict[str, Frame] = {}
    next_part = iter(parts)
    for spec in specs:
        name, shape, dtype = _frame_spec(spec, msg_id)
        if name in frames:
            raise ProtocolError(f"frame name {name!r} used twice", "give every frame its own name", msg_id=msg_id)
        expected = frame_nbytes(shape, dtype)
        segment = spec.get("shm")
        if segment is None:
            data = _buffer(next(next_part))
        else:
            data = _shared(shm, segment, expected, msg_id)
        if data.nbytes != expected:
            raise ProtocolError(
                f"frame {name!r} has {data.nbytes} bytes but shape {list(shape)} {dtype} needs {expected}",
                "send the whole array, C-ordered, with the shape and dtype the header states", msg_id=msg_id,
            )
        frames[name] = Frame(name, shape, dtype, data, segment)
    return frames


def _shared(shm: Optional[SharedMemory], segment: Any, nbytes: int, msg_id: Optional[str]) -> memoryview:
    if shm is None:
        raise ProtocolError("this side does not take shared-memory frames", "send the pixels as binary frames",
                            code="shm_unavailable", msg_id=msg_id)
    if not isinstance(segment, str):
        raise ProtocolError("a frame's 'shm' must be a segment name", "name the segment as a string", msg_id=msg_id)
    try:
        return _buffer(shm(segment, nbytes))
    except Exception as e:  # noqa: BLE001 - whatever the mapping raises, the sender gets an error reply
        raise ProtocolError(f"shared-memory frame unusable: {e}", "send the pixels as binary frames",
                            code="shm_unavailable", msg_id=msg_id) from None


def _frame_spec(spec: Any, msg_id: str) -> Tuple[str, Tuple[int, ...], str]:
    if not isinstance(spec, dict):
        raise ProtocolError("a frame description is not an object", "use {name, shape, dtype}", msg_id=msg_id)
    name, shape, dtype = spec.get("name"), spec.get("shape"), spec.get("dtype")
    if not isinstance(name, str) or not 0 < len(name) <= MAX_NAME_CHARS:
        raise ProtocolError(f"frame name must be a string of 1 to {MAX_NAME_CHARS} characters",
                            "name every frame", msg_id=msg_id)
    if dtype not in ITEMSIZE:
        raise ProtocolError(f"frame {name!r} has unsupported dtype {_shorten(repr(dtype))}",
                            f"use one of {', '.join(ITEMSIZE)}", msg_id=msg_id)
    if (not isinstance(shape, list) or not 0 < len(shape) <= MAX_DIMS
            or not all(isinstance(s, int) and not isinstance(s, bool) and 0 < s < 2 ** 31 for s in shape)):
        raise ProtocolError(f"frame {name!r} shape must be a list of 1 to {MAX_DIMS} positive integers",
                            "state the array's shape, e.g. [height, width, channels]", msg_id=msg_id)
    return name, tuple(shape), dtype


def _buffer(part: Any) -> memoryview:
    """A flat byte view of a frame: pyzmq ``Frame`` objects expose ``.buffer``."""
    view = memoryview(getattr(part, "buffer", part))
    return view if view.format == "B" and view.ndim == 1 else view.cast("B")


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not allowed")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"number {_shorten(text)} is out of range")
    return value


def _shorten(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def field_number(header: Dict[str, Any], key: str, default: float, low: float, high: float) -> float:
    """``header[key]`` as a finite number in ``[low, high]``, or ``default`` when absent."""
    value = header.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        raise ProtocolError(f"{key!r} must be a number from {low:g} to {high:g}, not {_shorten(repr(value))}",
                            f"send {key} within range", code="bad_input")
    return float(value)


def field_int(header: Dict[str, Any], key: str, default: int, low: int, high: int) -> int:
    """``header[key]`` as an integer in ``[low, high]``, or ``default`` when absent."""
    value = header.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ProtocolError(f"{key!r} must be an integer from {low} to {high}, not {_shorten(repr(value))}",
                            f"send {key} within range", code="bad_input")
    return value


def field_bool(header: Dict[str, Any], key: str, default: bool) -> bool:
    """``header[key]`` as a JSON boolean, or ``default`` when absent."""
    value = header.get(key, default)
    if not isinstance(value, bool):
        raise ProtocolError(f"{key!r} must be true or false, not {_shorten(repr(value))}",
                            f"send {key} as a JSON boolean", code="bad_input")
    return value


def field_str(header: Dict[str, Any], key: str, default: Optional[str] = None, max_chars: int = MAX_NAME_CHARS) -> str:
    """``header[key]`` as a non-empty string of at most ``max_chars``; required when ``default`` is None."""
    value = header.get(key, default)
    if not isinstance(value, str) or not 0 < len(value) <= max_chars:
        raise ProtocolError(f"{key!r} must be a string of 1 to {max_chars} characters, not {_shorten(repr(value))}",
                            f"send {key} as a string", code="bad_input")
    return value
