"""``restyle stylize --engine``: the same request, sent to a running engine through the client."""
from __future__ import annotations

from typing import Any, Optional, Sequence

import numpy as np

from .errors import BadInput, Cancelled, RestyleError
from .imaging.io import read_image


def _image(pixels: np.ndarray):
    from .client import Image

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
    if mask is None:
        return None
    if mask.dtype == np.uint8:
        return _image(mask[:, :, -1] if mask.ndim == 3 else mask)
    return _image(np.asarray(mask, dtype=np.float32))


def stylize_remote(endpoint: str, content: str, styles: Sequence[str], request: dict[str, Any]) -> tuple[np.ndarray, str]:
    """Stylize the file ``content`` on the engine at ``endpoint``; returns the pixels and the engine's device."""
    from .client import EngineClient, EngineError, JobCancelled

    pixels = read_image(content)
    weights = request.get("weights") or [1.0] * len(styles)
    if len(weights) != len(styles):
        raise BadInput(f"{len(weights)} weights for {len(styles)} styles", "give one weight per style")
    options = {k: v for k, v in request.items() if k not in ("weights", "mask", "options") and v is not None}
    options.update(request.get("options") or {})
    client = EngineClient(endpoint=endpoint)
    try:
        pong = client.ping()
        result = client.stylize(
            _image(pixels), [_style_entry(s, w) for s, w in zip(styles, weights)], mask=_mask_image(request.get("mask")), options=options
        )
    except JobCancelled:
        raise Cancelled() from None
    except EngineError as exc:
        raise RestyleError(str(getattr(exc, "message", exc)), getattr(exc, "hint", "") or "") from None
    finally:
        client.close()
    image = result.image
    out = np.frombuffer(image.data, dtype=np.dtype(image.dtype).newbyteorder("<")).reshape(image.height, image.width, image.channels)
    if image.channels == 1 and pixels.ndim == 2:
        out = out[:, :, 0]
    return out.astype(out.dtype.newbyteorder("=")), str(pong.get("device", "engine"))
