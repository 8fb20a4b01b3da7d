"""``restyle stylize --engine``: the same request, sent to a running engine through the client."""
from __future__ import annotations

from typing import Any, Optional, Sequence

import numpy as np

from ..errors import BadInput, Cancelled, RestyleError
from ..imaging.io import read_image


def _image(pixels: np.ndarray):
    from ..client.engine_client import Image

    if pixels.ndim == 2:
        pixels = pixels[:, :, None]
    pixels = np.ascontiguousarray(pixels)
    return Image(int(pixels.shape[1]), int(pixels.shape[0]), int(pixels.shape[2]), str(pixels.dtype), pixels.tobytes())


def _style_entry(source: str, weight: float) -> dict:
    if source.startswith("preset:"):
        return {"preset": source[len("preset:") :], "weight": weight}
    pixels = read_image(source)
    if pixels.ndim == 3 and pixels.shape[2] == 4:
        pixels = pixels[:, :, :3]
    return {"image": _image(pixels), "weight": weight}


def _mask_image(mask: Optional[np.ndarray]):
    """A mask as the engine takes it: one channel (the last: alpha or gray), uint8 or float32 in 0..1."""
    if mask is None:
        return None
    mask = mask[:, :, -1] if mask.ndim == 3 else mask
    if mask.dtype == np.uint8:
        return _image(mask)
    if mask.dtype.kind in "ui":
        return _image(mask.astype(np.float32) / np.iinfo(mask.dtype).max)
    return _image(np.asarray(mask, dtype=np.float32))


def _region_entry(region: Any) -> dict:
    """A client ``regions`` entry for an :class:`engine.Region` whose styles are file paths or preset names."""
    sources = region.style if isinstance(region.style, (list, tuple)) else [region.style]
    weights = region.weights or [1.0] * len(sources)
    return {
        "styles": [_style_entry(str(s), w) for s, w in zip(sources, weights)],
        "mask": _mask_image(None if region.mask is None else np.asarray(region.mask)),
        "strength": region.strength,
        "feather": region.feather,
        "invert_mask": region.invert,
    }


class RemoteStylizer:
    """Stylizes image files on the engine at ``endpoint`` with one request's settings.

    Style images, masks and options are read and packed once; one client serves every image.
    """

    def __init__(self, endpoint: str, styles: Optional[Sequence[str]], request: dict[str, Any]) -> None:
        from ..client.engine_client import EngineClient

        self.options = {k: v for k, v in request.items() if k not in ("weights", "mask", "options", "regions") and v is not None}
        self.options.update(request.get("options") or {})
        if request.get("regions"):
            self.job: dict[str, Any] = dict(regions=[_region_entry(r) for r in request["regions"]])
        else:
            styles = list(styles or [])
            weights = request.get("weights") or [1.0] * len(styles)
            if len(weights) != len(styles):
                raise BadInput(f"{len(weights)} weights for {len(styles)} styles", "give one weight per style")
            self.job = dict(styles=[_style_entry(s, w) for s, w in zip(styles, weights)], mask=_mask_image(request.get("mask")))
        self.client = EngineClient(endpoint=endpoint)
        self.device: Optional[str] = None

    def __enter__(self) -> "RemoteStylizer":
        return self

    def __exit__(self, *exc: object) -> None:
        self.client.close()

    def __call__(self, pixels: np.ndarray) -> tuple[np.ndarray, str]:
        """Stylize ``pixels`` (as :func:`engine.imaging.io.read_image` gives them); the result and the engine's device."""
        from ..client.engine_client import EngineError, JobCancelled

        try:
            if self.device is None:
                self.device = str(self.client.ping().get("device", "engine"))
            result = self.client.stylize(_image(pixels), options=self.options, **self.job)
        except JobCancelled:
            raise Cancelled() from None
        except EngineError as exc:
            raise RestyleError(str(getattr(exc, "message", exc)), getattr(exc, "hint", "") or "") from None
        image = result.image
        out = np.frombuffer(image.data, dtype=np.dtype(image.dtype).newbyteorder("<")).reshape(image.height, image.width, image.channels)
        if image.channels == 1 and pixels.ndim == 2:
            out = out[:, :, 0]
        return out.astype(out.dtype.newbyteorder("=")), self.device
