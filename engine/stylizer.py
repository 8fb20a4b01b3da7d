"""The engine's one entry point: :class:`Stylizer` (reusable, caches nets and style vectors) and :func:`stylize`."""
from __future__ import annotations

import hashlib
import math
import os
import threading
from dataclasses import dataclass, replace
from typing import Any, Optional, Sequence, Union

import numpy as np
import torch
from PIL import Image

from .client.geometry import Bounds, Extent
from .device import resolve_device
from .errors import BadInput
from .imaging.color import luminance_transfer, match_color_statistics
from .imaging.io import check_size, image_to_array, read_image_with_metadata
from .imaging.masks import MaskLike, composite, coerce_mask, feather_mask, mask_bounds
from .imaging.metadata import ImageMetadata, metadata_of
from .imaging.pixels import merge, split
from .memory import job_memory, reuse_large_blocks
from .methods.base import Method, MethodSettings, RegionJob, StyleRef
from .nets.presets import PRESETS, Preset, find_preset
from .progress import CancelToken, ProgressCallback, part_of
from .style_scale import DETAIL_RANGE, STYLE_SCALE_RANGE, StyleScale, auto_style_scale, is_auto
from .styles import StyleSource, resolve_styles

Content = Union[str, "os.PathLike[str]", Image.Image, np.ndarray]
METHODS = ("arbitrary", "preset", "optimize")
COLOR_MODES = {False: None, None: None, "off": None, "none": None, True: "luminance", "luminance": "luminance", "histogram": "histogram"}
MIN_SIDE = 16
MAX_FEATHER = 1000.0


@dataclass(frozen=True)
class Region:
    """One region of a multi-region request: where (a mask), which style(s) and how strongly."""

    mask: Optional[MaskLike]
    style: Union[StyleSource, Sequence[StyleSource]]
    weights: Optional[Sequence[float]] = None
    strength: float = 1.0
    feather: float = 0.0
    invert: bool = False


class Stylizer:
    """Stylizes images; keeps nets, compiled state and style vectors warm between calls.

    Thread-safe: calls are serialised (the nets use all cores anyway).
    """

    def __init__(self, device: str = "auto", threads: Optional[int] = None, memory_budget_mb: int = 1536) -> None:
        self.device = resolve_device(device)
        if threads is not None:
            if threads < 1:
                raise BadInput(f"threads must be at least 1, got {threads}")
            torch.set_num_threads(threads)
        self.memory_budget_mb = memory_budget_mb
        reuse_large_blocks()
        self._methods: dict[str, Method] = {}
        self._thumbnails: dict[tuple[str, int], np.ndarray] = {}
        self._lock = threading.RLock()

    # -- discovery ---------------------------------------------------------------------------

    @staticmethod
    def presets() -> list[Preset]:
        """The built-in styles, in index order."""
        return list(PRESETS)

    def preset_thumbnail(self, name: str, size: int = 96) -> np.ndarray:
        """A ``size`` x ``size`` uint8 RGB sample of a preset (the bundled photo, stylized)."""
        preset = find_preset(name)
        key = (preset.name, size)
        if key not in self._thumbnails:
            from .samples import sample_photo

            photo = np.asarray(Image.fromarray(sample_photo()).resize((size, size), Image.LANCZOS))
            self._thumbnails[key] = self.stylize(photo, style=f"preset:{preset.name}", method="preset")
        return self._thumbnails[key]

    def context_margin(self, method: str = "arbitrary", style_scale: float = 1.0) -> int:
        """Pixels of context a caller should send around a selection for ``method``."""
        return self._method(method).context_margin(MethodSettings(style_scale=style_scale, device=str(self.device)))

    # -- stylization -------------------------------------------------------------------------

    def stylize(
        self,
        content: Content,
        style: Union[StyleSource, Sequence[StyleSource], None] = None,
        *,
        weights: Optional[Sequence[float]] = None,
        method: Optional[str] = None,
        strength: float = 1.0,
        preserve_colors: Union[bool, str, None] = False,
        style_scale: StyleScale = 1.0,
        detail: float = 1.0,
        mask: Optional[MaskLike] = None,
        feather: float = 0.0,
        invert_mask: bool = False,
        regions: Optional[Sequence[Region]] = None,
        options: Optional[dict[str, Any]] = None,
        seed: int = 0,
        progress: Optional[ProgressCallback] = None,
        cancel: Optional[CancelToken] = None,
    ):
        """Stylize ``content``; see docs/architecture.md for every argument.

        Returns the content's kind: an array (same dtype, channels and alpha) for an array, a PIL
        image for a PIL image or a path. Pixels where the feathered mask is 0 are bit-exact copies.
        """
        pixels, pil_metadata = _content_pixels(content)
        flat = pixels.ndim == 2
        pixels = pixels[:, :, None] if flat else pixels
        parts = split(pixels)
        extent = Extent(pixels.shape[1], pixels.shape[0])
        color_mode = _color_mode(preserve_colors)
        if is_auto(style_scale):
            style_scale = auto_style_scale(extent.width, extent.height)
        style_scale = _check_range("style_scale", style_scale, *STYLE_SCALE_RANGE, 'or "auto"')
        detail = _check_range("detail", detail, *DETAIL_RANGE)
        if regions is None:
            regions = [Region(mask, style, weights, strength, feather, invert_mask)]
        elif mask is not None or style is not None:
            raise BadInput("pass either regions or a single mask/style, not both")
        if not regions:
            raise BadInput("the region list is empty", "pass at least one region")
        resolved = [(_region_styles(r), r) for r in regions]
        # Without a method each region gets its own (a preset region beside a style-image one).
        methods = [_pick_method(method, [refs]) for refs, _ in resolved]
        with self._lock:
            runners = {name: self._method(name) for name in methods}
            settings = MethodSettings(style_scale=style_scale, detail=detail, device=str(self.device), seed=seed,
                                      extra=options)
            jobs, coverages = [], []
            for (refs, region), name in zip(resolved, methods):
                coverage, bounds = _coverage(region, extent)
                context = bounds.pad(runners[name].context_margin(settings)).clamp(extent)
                rows, cols = context.slices
                if color_mode == "histogram":
                    refs = tuple(_match_colors(ref, parts.rgb[rows, cols]) if ref.image is not None else ref
                                 for ref in refs)
                strength_value = _check_range("strength", region.strength, 0.0, 1.0)
                jobs.append(RegionJob(refs, strength_value, bounds, context, coverage))
                coverages.append(coverage)
            with job_memory():
                stylized = _render_by_method(runners, methods, parts.rgb, jobs, settings, progress, cancel)
        result = pixels
        for job, coverage, crop in zip(jobs, coverages, stylized):
            rows, cols = job.context.slices
            if color_mode == "luminance":
                crop = luminance_transfer(crop, parts.rgb[rows, cols])
            elif color_mode == "histogram" and any(ref.preset is not None for ref in job.styles):
                crop = match_color_statistics(crop, parts.rgb[rows, cols])  # a preset has no image to recolour
            piece = merge(crop, replace(parts, alpha=None if parts.alpha is None else parts.alpha[rows, cols]))
            local = None if coverage is None else coverage[rows, cols]
            result = result.copy() if result is pixels else result
            result[rows, cols] = composite(result[rows, cols], piece, local)
        return _as_kind(result[:, :, 0] if flat else result, pil_metadata)

    def _method(self, name: str) -> Method:
        if name not in self._methods:
            if name == "arbitrary":
                from .methods.feedforward import ArbitraryMethod

                self._methods[name] = ArbitraryMethod(self.device, self.memory_budget_mb)
            elif name == "preset":
                from .methods.feedforward import PresetMethod

                self._methods[name] = PresetMethod(self.device, self.memory_budget_mb)
            elif name == "optimize":
                try:
                    from .methods.optimize import OptimizeMethod
                except ImportError:
                    raise BadInput("the optimize method is not available in this build", "use method arbitrary or preset") from None
                self._methods[name] = OptimizeMethod(self.device, fast=self._method("arbitrary"))
            else:
                raise BadInput(f"unknown method '{name}'", f"use one of: {', '.join(METHODS)}")
        return self._methods[name]


_default: Optional[Stylizer] = None


def stylize(content: Content, style=None, **kwargs):
    """One-shot :meth:`Stylizer.stylize` with a shared default Stylizer (CPU/GPU picked automatically)."""
    global _default
    if _default is None:
        _default = Stylizer()
    return _default.stylize(content, style, **kwargs)


def _content_pixels(content: Content) -> tuple[np.ndarray, Optional[ImageMetadata]]:
    """The content's pixels, and the profile and metadata a PIL result keeps (None for an array: the result is one)."""
    if isinstance(content, np.ndarray):
        pixels, pil_metadata = content, None
    elif isinstance(content, Image.Image):
        pixels, pil_metadata = image_to_array(content), metadata_of(content)
    elif isinstance(content, (str, os.PathLike)):
        pixels, pil_metadata = read_image_with_metadata(content)
    else:
        raise BadInput(f"cannot stylize a {type(content).__name__}", "pass a path, a PIL image or a numpy array")
    parts_shape = pixels.shape
    check_size(parts_shape[1], parts_shape[0])
    if min(parts_shape[:2]) < MIN_SIDE:
        raise BadInput(f"image is {parts_shape[1]}x{parts_shape[0]}", f"both sides need at least {MIN_SIDE} pixels")
    return pixels, pil_metadata


def _as_kind(result: np.ndarray, pil_metadata: Optional[ImageMetadata]):
    if pil_metadata is None:
        return result
    from .imaging.io import array_to_image

    return array_to_image(result, pil_metadata)


def _color_mode(value) -> Optional[str]:
    key = value.strip().lower() if isinstance(value, str) else value
    if key not in COLOR_MODES:
        raise BadInput(f"unknown preserve_colors mode {value!r}", "use off, luminance or histogram")
    return COLOR_MODES[key]


def _check_range(name: str, value: float, low: float, high: float, alternative: str = "") -> float:
    """``value`` as a finite float in ``[low, high]``; ``alternative`` names what else is accepted."""
    other = f" {alternative}" if alternative else ""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise BadInput(f"{name} must be a number{other}, got {value!r}") from None
    if not math.isfinite(number) or not low <= number <= high:
        raise BadInput(f"{name} must be between {low:g} and {high:g}{other}, got {value!r}")
    return number


def _region_styles(region: Region) -> tuple[StyleRef, ...]:
    return resolve_styles(region.style, region.weights)


def _render_by_method(
    runners: dict[str, Method],
    methods: list[str],
    rgb: np.ndarray,
    jobs: list[RegionJob],
    settings: MethodSettings,
    progress: Optional[ProgressCallback],
    cancel: Optional[CancelToken],
) -> list[np.ndarray]:
    """Each job rendered by its method's runner (one call per method), in the jobs' order."""
    results: list[Optional[np.ndarray]] = [None] * len(jobs)
    for part, (name, runner) in enumerate(runners.items()):
        indices = [i for i, m in enumerate(methods) if m == name]
        report = part_of(progress, part, len(runners))
        for i, crop in zip(indices, runner.render(rgb, [jobs[i] for i in indices], settings, report, cancel)):
            results[i] = crop
    return results  # type: ignore[return-value]


def _pick_method(method: Optional[str], style_sets: list[tuple[StyleRef, ...]]) -> str:
    refs = [ref for refs in style_sets for ref in refs]
    has_presets = any(ref.preset is not None for ref in refs)
    has_images = any(ref.image is not None for ref in refs)
    if method is None:
        if has_presets and has_images:
            raise BadInput("cannot blend presets with style images", "use only presets or only style images")
        method = "preset" if has_presets else "arbitrary"
    method = method.strip().lower()
    if method not in METHODS:
        raise BadInput(f"unknown method '{method}'", f"use one of: {', '.join(METHODS)}")
    if method == "preset" and has_images:
        raise BadInput("the preset method takes only presets", "use preset:NAME styles, or method arbitrary for style images")
    if method in ("arbitrary", "optimize") and has_presets:
        raise BadInput(f"the {method} method takes style images, not presets", "use method preset for preset:NAME styles")
    return method


def _coverage(region: Region, extent: Extent) -> tuple[Optional[np.ndarray], Bounds]:
    feather = _check_range("feather", region.feather, 0.0, MAX_FEATHER)
    if region.mask is None:
        if region.invert:
            raise BadInput("invert_mask needs a mask", "pass a mask, or drop the invert option")
        return None, Bounds.of(extent)
    coverage = coerce_mask(region.mask, extent)
    if region.invert:
        coverage = 1.0 - coverage
    coverage = feather_mask(coverage, feather)
    bounds = mask_bounds(coverage)
    if bounds.is_empty:
        raise BadInput("the mask selects nothing", "select a region first, or stylize without a mask")
    return coverage, bounds


def _match_colors(ref: StyleRef, content: np.ndarray) -> StyleRef:
    """The style image recoloured to the content's colour statistics (preserve_colors="histogram")."""
    matched = match_color_statistics(ref.image, content)
    digest = hashlib.sha1(matched.tobytes()).hexdigest()
    return StyleRef(weight=ref.weight, image=matched, key=f"{ref.key}|matched:{digest}")
