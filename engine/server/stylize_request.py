"""A checked ``stylize`` request and its translation into a :meth:`engine.Stylizer.stylize` call."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Tuple, Union

import numpy as np

from ..client.protocol import (
    ITEMSIZE,
    MAX_NAME_CHARS,
    Frame,
    Message,
    ProtocolError,
    field_bool,
    field_number,
    field_str,
)
from ..errors import BadInput, TooLarge
from ..preset_names import PRESET_NAMES
from ..style_scale import DETAIL_RANGE, StyleScale, auto_style_scale, is_auto

MAX_STYLES = 8
MAX_REGIONS = 16
MAX_OPTIONS = 32
MAX_OPTION_CHARS = 256
PRESERVE_COLORS = (False, True, "luminance", "histogram")
SHARED_OPTIONS = ("method", "strength", "preserve_colors", "style_scale", "detail", "canvas_size", "feather",
                  "invert_mask")
STYLE_SCALE_LIMITS = (1 / 16, 16.0)  # what the wire takes; the Stylizer checks its own, narrower range
MAX_CANVAS_SIDE = 1 << 20
MASK_DTYPES = ("uint8", "float32")
EXAMPLE_STYLE = f'{{"preset": "{PRESET_NAMES[0]}", "weight": 1.0}}'  # a real preset: the first the engine lists


@dataclass(frozen=True)
class Limits:
    """What the engine accepts: longest side and pixel count of any image."""

    max_side: int = 8192
    max_pixels: int = 8192 * 8192

    @property
    def max_frame_bytes(self) -> int:
        """Largest binary frame: an RGBA float32 image of ``max_pixels``."""
        return self.max_pixels * 4 * ITEMSIZE["float32"]


@dataclass(frozen=True)
class RegionRequest:
    """One region of a multi-region request: its mask (None: the whole image), styles and strength."""

    mask: Optional[Frame]
    styles: Tuple[Union[str, Frame], ...]
    weights: Tuple[float, ...]
    strength: float
    feather: float
    invert_mask: bool


@dataclass(frozen=True)
class StylizeRequest:
    """A ``stylize`` message whose header fields and frames passed every check."""

    content: Frame
    styles: Tuple[Union[str, Frame], ...]  # preset names and style image frames
    weights: Tuple[float, ...]
    method: Optional[str]  # None: the engine picks (preset for presets, arbitrary for style images)
    strength: float
    preserve_colors: Union[bool, str]
    style_scale: StyleScale  # a number, or "auto"
    feather: float
    invert_mask: bool
    options: Dict[str, Any]
    mask: Optional[Frame] = None
    output: Optional[Frame] = None  # a shared-memory frame the result is written into
    regions: Tuple[RegionRequest, ...] = ()  # when given, styles/weights/mask are empty
    detail: float = 1.0
    canvas_size: Optional[Tuple[int, int]] = None  # the picture the content was cut from (for "auto")

    @property
    def nbytes(self) -> int:
        """Bytes of pixels the request holds (content, masks and style images)."""
        frames = [self.content, self.mask] + [s for s in self.styles if isinstance(s, Frame)]
        for region in self.regions:
            frames += [region.mask] + [s for s in region.styles if isinstance(s, Frame)]
        return sum(f.nbytes for f in frames if f is not None)


def parse_stylize(message: Message, limits: Limits) -> StylizeRequest:
    """Check a ``stylize`` message's fields and frames against protocol v1 and ``limits``."""
    header, frames = message.header, message.frames
    content = _image_frame(frames.get("content"), "content", limits, (3, 4))
    mask = frames.get("mask")
    if mask is not None:
        _check_mask(mask, content)
    output = frames.get("output")
    if output is not None and (output.shm is None or (output.shape, output.dtype) != (content.shape, content.dtype)):
        raise ProtocolError("the output frame must be a shared-memory frame of the content's shape and dtype",
                            "leave out 'output' to get the result as a binary frame", code="bad_input")
    options = header.get("options", {})
    if not isinstance(options, dict) or len(options) > MAX_OPTIONS:
        raise ProtocolError(f"'options' must be an object of at most {MAX_OPTIONS} entries",
                            "send options as a JSON object", code="bad_input")
    preserve = options.get("preserve_colors", False)
    if not any(preserve is p or (isinstance(p, str) and preserve == p) for p in PRESERVE_COLORS):
        raise ProtocolError("'preserve_colors' must be false, true, \"luminance\" or \"histogram\"",
                            "pick one of those", code="bad_input")
    strength = field_number(options, "strength", 1.0, 0.0, 1.0)
    feather = field_number(options, "feather", 0.0, 0.0, float(limits.max_side))
    invert_mask = field_bool(options, "invert_mask", False)
    regions: Tuple[RegionRequest, ...] = ()
    if "regions" in header:
        if "styles" in header or mask is not None:
            raise ProtocolError("a request has either 'styles' (and a 'mask' frame) or 'regions', not both",
                                "put each region's mask and styles in its 'regions' entry", code="bad_input")
        defaults = RegionRequest(None, (), (), strength, feather, invert_mask)
        regions = _regions(header["regions"], frames, content, limits, defaults)
        styles, weights = [], []
    else:
        styles, weights = _styles(header.get("styles"), frames, limits)
    used = {"content", "mask", "output"} | {s.name for s in styles if isinstance(s, Frame)}
    for region in regions:
        used |= {f.name for f in (region.mask, *region.styles) if isinstance(f, Frame)}
    unused = sorted(set(frames) - used)
    if unused:
        raise ProtocolError(f"frames {unused} are not referenced by the request",
                            "send only content, mask, output and the style images and masks the request names",
                            code="bad_input")
    return StylizeRequest(
        content=content,
        mask=mask,
        output=output,
        styles=tuple(styles),
        weights=tuple(weights),
        method=field_str(options, "method") if "method" in options else None,
        strength=strength,
        preserve_colors=preserve,
        style_scale=_style_scale(options),
        feather=feather,
        invert_mask=invert_mask,
        options=_method_options({k: v for k, v in options.items() if k not in SHARED_OPTIONS}),
        regions=regions,
        detail=field_number(options, "detail", 1.0, *DETAIL_RANGE),
        canvas_size=_canvas_size(options),
    )


def _style_scale(options: Dict[str, Any]) -> StyleScale:
    """``style_scale``: "auto", or a number the wire takes."""
    value = options.get("style_scale")
    if is_auto(value):
        return value
    if isinstance(value, str):
        raise ProtocolError(f"'style_scale' must be a number or \"auto\", not {value[:MAX_NAME_CHARS]!r}",
                            'send a number such as 2, or "auto"', code="bad_input")
    return field_number(options, "style_scale", 1.0, *STYLE_SCALE_LIMITS)


def _canvas_size(options: Dict[str, Any]) -> Optional[Tuple[int, int]]:
    """``canvas_size``: [width, height] of the picture the content was cut from, or None."""
    if "canvas_size" not in options:
        return None
    value = options["canvas_size"]
    if (not isinstance(value, list) or len(value) != 2
            or not all(isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= MAX_CANVAS_SIDE for v in value)):
        raise ProtocolError(f"'canvas_size' must be [width, height], two integers from 1 to {MAX_CANVAS_SIDE}",
                            "send the size of the whole picture, e.g. [4000, 3000]", code="bad_input")
    return value[0], value[1]


def _regions(entries: Any, frames: Dict[str, Frame], content: Frame, limits: Limits,
             defaults: RegionRequest) -> Tuple[RegionRequest, ...]:
    """The checked ``regions`` of a request; fields a region leaves out come from ``defaults`` (the options)."""
    if not isinstance(entries, list) or not 0 < len(entries) <= MAX_REGIONS:
        raise ProtocolError(f"'regions' must be a list of 1 to {MAX_REGIONS} regions",
                            f'send e.g. [{{"mask": "mask0", "styles": [{EXAMPLE_STYLE}]}}]', code="bad_input")
    regions = []
    for entry in entries:
        if not isinstance(entry, dict):
            raise ProtocolError("each region must be an object with 'styles' and optionally 'mask', 'strength', "
                                "'feather' and 'invert_mask'", 'send e.g. {"mask": "mask0", "styles": [...]}',
                                code="bad_input")
        mask = None
        if "mask" in entry:
            name = field_str(entry, "mask")
            mask = frames.get(name)
            if mask is None or name in ("content", "output"):
                raise ProtocolError(f"region mask frame {name!r} is missing", "send the frame the region names",
                                    code="bad_input")
            _check_mask(mask, content)
        styles, weights = _styles(entry.get("styles"), frames, limits)
        regions.append(RegionRequest(
            mask=mask,
            styles=tuple(styles),
            weights=tuple(weights),
            strength=field_number(entry, "strength", defaults.strength, 0.0, 1.0),
            feather=field_number(entry, "feather", defaults.feather, 0.0, float(limits.max_side)),
            invert_mask=field_bool(entry, "invert_mask", defaults.invert_mask),
        ))
    return tuple(regions)


def _image_frame(frame: Optional[Frame], what: str, limits: Limits, channels: Tuple[int, ...]) -> Frame:
    if frame is None:
        raise ProtocolError(f"the {what} image frame is missing", f"send a frame named {what!r}", code="bad_input")
    if len(frame.shape) != 3 or frame.shape[2] not in channels:
        raise ProtocolError(
            f"{what} frame must have shape [height, width, channels] with {' or '.join(map(str, channels))} channels, "
            f"not {list(frame.shape)}", "send RGB or RGBA pixels", code="bad_input",
        )
    height, width = frame.shape[:2]
    if max(height, width) > limits.max_side or height * width > limits.max_pixels:
        raise TooLarge(
            f"{what} image {width}x{height} is larger than the engine accepts "
            f"(longest side {limits.max_side}, {limits.max_pixels} pixels)",
            "scale the image down or select a smaller region",
        )
    return frame


def _check_mask(mask: Frame, content: Frame) -> None:
    height, width = content.shape[:2]
    if mask.shape not in ((height, width), (height, width, 1)) or mask.dtype not in MASK_DTYPES:
        raise ProtocolError(
            f"mask must be [{height}, {width}] or [{height}, {width}, 1] uint8 or float32 like the content, "
            f"not {list(mask.shape)} {mask.dtype}", "send a one-channel mask the size of the content",
            code="bad_input",
        )


def _styles(entries: Any, frames: Dict[str, Frame], limits: Limits) -> Tuple[List[Union[str, Frame]], List[float]]:
    if not isinstance(entries, list) or not 0 < len(entries) <= MAX_STYLES:
        raise ProtocolError(f"'styles' must be a list of 1 to {MAX_STYLES} styles",
                            f'send e.g. [{EXAMPLE_STYLE}]', code="bad_input")
    styles: List[Union[str, Frame]] = []
    weights = []
    for entry in entries:
        if not isinstance(entry, dict) or ("preset" in entry) == ("image" in entry):
            raise ProtocolError("each style needs exactly one of 'preset' or 'image'",
                                'send {"preset": NAME} or {"image": FRAME_NAME}', code="bad_input")
        if "preset" in entry:
            styles.append(field_str(entry, "preset"))
        else:
            name = field_str(entry, "image")
            styles.append(_image_frame(frames.get(name), f"style image {name!r}", limits, (3, 4)))
        weights.append(field_number(entry, "weight", 1.0, 0.0, 1e6))
    if sum(weights) <= 0:
        raise ProtocolError("style weights add up to 0", "give at least one style a positive weight", code="bad_input")
    return styles, weights


def _method_options(options: Dict[str, Any]) -> Dict[str, Any]:
    for key, value in options.items():
        values = value if isinstance(value, list) else [value]
        if len(key) > MAX_NAME_CHARS or len(values) > MAX_OPTIONS or not all(map(_scalar, values)):
            raise ProtocolError(
                f"option {key[:MAX_NAME_CHARS]!r} must be a number, boolean, short string or a short list of them",
                "check the method's options", code="bad_input",
            )
    return options


def _scalar(value: Any) -> bool:
    if isinstance(value, str):
        return len(value) <= MAX_OPTION_CHARS
    return value is None or isinstance(value, (bool, int, float)) and abs(value) < 1e15


def frame_array(frame: Frame) -> np.ndarray:
    """A frame as a read-only numpy array of its shape and dtype (no copy)."""
    return np.frombuffer(frame.data, dtype=np.dtype(frame.dtype).newbyteorder("<")).reshape(frame.shape)


def array_frame(name: str, array: np.ndarray) -> Frame:
    """A numpy array as a frame (no copy when it is already C-ordered little-endian)."""
    dtype = array.dtype.name
    if dtype not in ITEMSIZE:
        raise TypeError(f"cannot send a {dtype} array; convert it to one of {', '.join(ITEMSIZE)}")
    array = np.ascontiguousarray(array, dtype=array.dtype.newbyteorder("<"))
    return Frame(name, tuple(array.shape), dtype, array.reshape(-1).view(np.uint8).data)


def result_frame(request: StylizeRequest, result: np.ndarray) -> Frame:
    """The reply's ``image`` frame: written into the request's output segment, or sent as a binary frame."""
    if request.output is None:
        return array_frame("image", result)
    np.copyto(frame_array(request.output), result)
    return Frame("image", request.output.shape, request.output.dtype, None, request.output.shm)


def stylizer_call(request: StylizeRequest) -> Tuple[np.ndarray, Dict[str, Any]]:
    """The content array and keyword arguments for ``Stylizer.stylize`` (progress and cancel excepted)."""
    content = frame_array(request.content)
    _check_finite(content, "content")
    if request.regions:
        return content, dict(_shared_kwargs(request), regions=[_region(r) for r in request.regions])
    styles = [_style(s) for s in request.styles]
    return content, dict(
        style=styles,
        weights=list(request.weights),
        method=request.method,
        strength=request.strength,
        preserve_colors=request.preserve_colors,
        style_scale=resolved_style_scale(request),
        detail=request.detail,
        mask=None if request.mask is None else _mask(request.mask),
        feather=request.feather,
        invert_mask=request.invert_mask,
        options=dict(request.options),
    )


def _shared_kwargs(request: StylizeRequest) -> Dict[str, Any]:
    """The keyword arguments that apply to every region."""
    return dict(method=request.method, preserve_colors=request.preserve_colors,
                style_scale=resolved_style_scale(request), detail=request.detail, options=dict(request.options))


def describe(request: StylizeRequest) -> str:
    """One line for the engine's log: the content, the method and the stroke size a request asks for."""
    height, width = request.content.shape[:2]
    scale = f"{resolved_style_scale(request):.2f}"
    if is_auto(request.style_scale):
        canvas = request.canvas_size or (width, height)
        scale = f"auto on a {canvas[0]}x{canvas[1]} canvas = {scale}"
    regions = f", {len(request.regions)} regions" if request.regions else ""
    return (f"{width}x{height} {request.content.dtype}, method {request.method or 'by style'}{regions}, "
            f"style scale {scale}, detail {request.detail:g}")


def resolved_style_scale(request: StylizeRequest) -> float:
    """The request's style scale as a number: "auto" is worked out for the canvas (default: the content)."""
    if not is_auto(request.style_scale):
        return float(request.style_scale)
    height, width = request.content.shape[:2]
    return auto_style_scale(*(request.canvas_size or (width, height)))


def _region(region: RegionRequest) -> Any:
    from ..stylizer import Region  # the engine side only: it needs torch

    mask = None if region.mask is None else _mask(region.mask)
    return Region(mask, [_style(s) for s in region.styles], list(region.weights), region.strength,
                  region.feather, region.invert_mask)


def _style(style: Union[str, Frame]) -> Union[str, np.ndarray]:
    if isinstance(style, str):
        return f"preset:{style}"
    pixels = frame_array(style)
    _check_finite(pixels, f"style image {style.name!r}")
    return np.ascontiguousarray(pixels[:, :, :3])


def _mask(frame: Frame) -> np.ndarray:
    mask = frame_array(frame).reshape(frame.shape[:2])
    if mask.dtype == np.uint8:
        return mask.astype(np.float32) / 255.0
    _check_finite(mask, "mask")
    if mask.min() < 0.0 or mask.max() > 1.0:
        raise BadInput("float32 mask values must lie in 0..1", "scale the mask to 0..1 or send it as uint8")
    return mask.astype(np.float32)


def _check_finite(array: np.ndarray, what: str) -> None:
    if array.dtype.kind == "f" and not math.isfinite(float(np.sum(array, dtype=np.float64))):
        raise BadInput(f"{what} pixels contain NaN or infinity", "send finite pixel values")
