"""A faster, equivalent form of :class:`TransformerNet` for inference at any size.

* **Polyphase expand layers.** Nearest upsampling followed by a convolution becomes a sub-pixel
  convolution at the lower resolution, and the final 9x9 convolution runs on the 2x2 space-to-depth
  ("phase") form of its input at half resolution. The arithmetic is the same; the memory traffic is
  far lower and the convolutions get enough channels to fill the CPU's vector units.
* **Folded normalisation.** Given instance-norm statistics, the style's scale and shift and the
  statistics fold into the convolution weights: the net becomes a pure convolutional function, so
  tiles of a large image agree exactly where they overlap, and no reductions run at all.

Padding is reflection at every layer, as in the original net (for phase forms, reflection of the
full-resolution signal), so the output equals the original's to float precision. The same form runs
in three modes: ``live`` (statistics from the input itself), ``record`` (statistics pooled over a
batch of crops, excluding given margins, and returned) and ``frozen`` (statistics folded in).
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Optional, Sequence

import torch
import torch.nn.functional as F

from .transformer import NORM_EPS, Conditioning, LayerSpec, NormStats, TransformerNet

# Representation of each layer's input and output: 1 = plain, 2 = 2x2 phase form at half resolution.
Plan = dict[str, tuple[int, int]]

EXPAND_PLAN: Plan = {"expand.0": (1, 2), "expand.1": (1, 2), "expand.2": (2, 2)}
# The arbitrary net's first layers have few channels (3 -> 8 -> 16): the phase form pays there too.
ARBITRARY_PLAN: Plan = {**EXPAND_PLAN, "contract.0": (2, 2), "contract.1": (2, 1)}
PRESET_PLAN: Plan = EXPAND_PLAN
Margins = tuple[int, int, int, int]  # top, bottom, left, right, in full-resolution pixels
NO_MARGINS: Margins = (0, 0, 0, 0)


def phase_kernel(w: torch.Tensor, stride: int, upsample: bool, in_factor: int, out_factor: int) -> torch.Tensor:
    """Kernel of the stride-1 convolution mapping the phase form of a layer's input to that of its output.

    ``w`` is the layer's ``O x C x k x k`` kernel (padding ``k // 2``, optional 2x nearest upsampling
    of the input first). The result has ``O*out_factor**2`` outputs, ``C*in_factor**2`` inputs and an
    odd size; its input must be padded by half its size (see :func:`_pad`).
    """
    out_ch, in_ch, k, _ = w.shape
    up = 2 if upsample else 1
    if stride * out_factor != up * in_factor:
        raise ValueError("input and output phase forms must share one grid")
    taps = []  # (output phase, kernel tap, input phase, offset in the phase grid)
    for a in range(out_factor):
        for u in range(k):
            stored = (stride * a + u - k // 2) // up
            taps.append((a, u, stored % in_factor, stored // in_factor))
    radius = max(abs(d) for *_, d in taps)
    size = 2 * radius + 1
    kernel = torch.zeros(out_ch, out_factor, out_factor, in_ch, in_factor, in_factor, size, size)
    for a, u, p, dy in taps:
        for b, v, q, dx in taps:
            kernel[:, a, b, :, p, q, dy + radius, dx + radius] += w[:, :, u, v]
    return kernel.reshape(out_ch * out_factor**2, in_ch * in_factor**2, size, size)


@dataclass(frozen=True)
class FastLayer:
    """One layer in the fast form: spec, phase factors, kernel, radius and output grid step."""

    spec: LayerSpec
    in_factor: int
    out_factor: int
    weight: torch.Tensor  # channels-last kernel of the (phase-form) convolution
    bias: torch.Tensor
    stride: int
    radius: int  # padding the convolution needs, in its input's pixels
    step: int  # full-resolution pixels per pixel of this layer's output tensor


@functools.lru_cache(maxsize=8)
def fast_layers(net: TransformerNet, plan_items: tuple[tuple[str, tuple[int, int]], ...]) -> tuple[FastLayer, ...]:
    """The layers of ``net`` in fast form under a plan (given as sorted items); built once per net."""
    plan = dict(plan_items)
    layers = []
    step = 1
    for spec, conv in zip(net.layers, net.convs):
        fin, fout = plan.get(spec.name, (1, 1))
        step = step * spec.stride // (2 if spec.upsample else 1)
        if fin == fout == 1:
            if spec.upsample:
                raise ValueError(f"{spec.name}: an upsampling layer needs a phase form")
            weight, stride = conv.weight.detach().clone(), spec.stride
        else:
            weight, stride = phase_kernel(conv.weight.detach(), spec.stride, spec.upsample, fin, fout), 1
        bias = conv.bias.detach().repeat_interleave(fout * fout)
        weight = weight.contiguous(memory_format=torch.channels_last)
        layers.append(FastLayer(spec, fin, fout, weight, bias, stride, weight.shape[2] // 2, step * fout))
    return tuple(layers)


class FastTransformer:
    """:class:`TransformerNet` rewritten for speed (see module docstring), for one style."""

    def __init__(self, net: TransformerNet, cond: Conditioning, plan: Optional[Plan] = None) -> None:
        plan = EXPAND_PLAN if plan is None else plan
        self.layers = fast_layers(net, tuple(sorted(plan.items())))
        self.weights = [layer.weight for layer in self.layers]
        self.biases = [layer.bias for layer in self.layers]
        self.gammas = [g.reshape(-1) for g in cond.gammas]
        self.betas = [b.reshape(-1) for b in cond.betas]
        self.frozen = False

    def freeze(self, stats: NormStats) -> "FastTransformer":
        """Fold ``stats`` (and the style) into this form's weights; the net is then a pure function."""
        norm_index = 0
        for i, layer in enumerate(self.layers):
            if not layer.spec.normalized:
                continue
            scale, shift = self._affine(norm_index, *stats[norm_index])
            f2 = layer.out_factor**2
            self.weights[i] = (layer.weight * scale.repeat_interleave(f2)[:, None, None, None]).contiguous(
                memory_format=torch.channels_last
            )
            self.biases[i] = layer.bias * scale.repeat_interleave(f2) + shift.repeat_interleave(f2)
            norm_index += 1
        self.frozen = True
        return self

    def _affine(self, index: int, mean: torch.Tensor, var: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        scale = self.gammas[index] * torch.rsqrt(var.reshape(-1) + NORM_EPS)
        return scale, self.betas[index] - mean.reshape(-1) * scale

    def __call__(
        self, x: torch.Tensor, record: Optional[NormStats] = None, margins: Optional[Sequence[Margins]] = None
    ) -> torch.Tensor:
        """Stylize ``x`` (N x 3 x H x W in 0..1, sides multiples of 4) -> same shape.

        Unless frozen, instance-norm statistics come from the input; with ``record`` they are pooled
        over the batch, leaving out each image's ``margins`` (full-resolution pixels, multiples of 4),
        and appended.
        """
        margins = list(margins) if margins is not None else [NO_MARGINS] * x.shape[0]
        h = x.contiguous(memory_format=torch.channels_last)
        factor = 1
        skip = h
        norm_index = 0
        last = len(self.layers) - 1
        for i, (layer, weight, bias) in enumerate(zip(self.layers, self.weights, self.biases)):
            name = layer.spec.name
            if name.startswith("res.") and name.endswith(".0"):
                skip = h
            if layer.in_factor == 1 and not layer.spec.upsample:
                h = _conv_reflect(weight, bias, layer.stride, _to_factor(h, factor, 1), layer.radius)
            else:
                h = F.conv2d(_pad(h, factor, layer), weight, bias)
            factor = layer.out_factor
            if layer.spec.normalized and not self.frozen:
                h = self._normalize(h, layer, norm_index, record, margins)
            norm_index += layer.spec.normalized
            if i == last:
                return torch.sigmoid(_to_factor(h, factor, 1))
            h = h.add_(skip) if name.startswith("res.") and name.endswith(".1") else h.relu_()
        raise ValueError("a transformer needs at least one layer")

    def _normalize(
        self, h: torch.Tensor, layer: FastLayer, index: int, record: Optional[NormStats], margins: list[Margins]
    ) -> torch.Tensor:
        if record is None and h.shape[0] != 1:
            raise ValueError("live instance norm takes one image at a time")
        f2 = layer.out_factor**2
        in_grid = [tuple(m // layer.step for m in image) for image in margins]
        mean, var = region_moments(h, in_grid, f2)
        if record is not None:
            record.append((mean[None], var[None]))
        scale, shift = self._affine(index, mean, var)
        scale = scale.repeat_interleave(f2)[None, :, None, None]
        shift = shift.repeat_interleave(f2)[None, :, None, None]
        return torch.addcmul(shift, h, scale, out=h)


def _conv_reflect(w: torch.Tensor, b: torch.Tensor, stride: int, h: torch.Tensor, r: int) -> torch.Tensor:
    """Convolution of ``h`` reflection-padded by ``r``, without copying ``h`` into a padded tensor.

    The convolution runs with zero padding (no copy), then the border ring that padding reaches is
    recomputed from thin reflection-padded strips. Stride 2 (even sizes) only reaches the top/left.
    """
    out = F.conv2d(h, w, b, stride=stride, padding=r)
    height, width = h.shape[-2:]
    if stride == 2:
        out[:, :, :1, :] = F.conv2d(F.pad(h[:, :, : 2 * r], [r, r, r, 0], mode="reflect"), w, b, stride=2)
        out[:, :, 1:, :1] = F.conv2d(F.pad(h[:, :, 1:, : 2 * r], [r, 0, 0, 0], mode="reflect"), w, b, stride=2)
        return out
    out[:, :, :r, :] = F.conv2d(F.pad(h[:, :, : 2 * r], [r, r, r, 0], mode="reflect"), w, b)
    out[:, :, height - r :, :] = F.conv2d(F.pad(h[:, :, height - 2 * r :], [r, r, 0, r], mode="reflect"), w, b)
    out[:, :, r : height - r, :r] = F.conv2d(F.pad(h[:, :, :, : 2 * r], [r, 0, 0, 0], mode="reflect"), w, b)
    out[:, :, r : height - r, width - r :] = F.conv2d(F.pad(h[:, :, :, width - 2 * r :], [0, r, 0, 0], mode="reflect"), w, b)
    return out


def _pad(h: torch.Tensor, factor: int, layer: FastLayer) -> torch.Tensor:
    """The input of a phase-form ``layer`` (currently in form ``factor``), padded as the original net pads."""
    h = _to_factor(h, factor, layer.in_factor)
    if layer.spec.upsample:
        # Reflecting an upsampled signal by one pixel repeats the edge of the low-resolution one.
        return F.pad(h, [layer.radius] * 4, mode="replicate")
    return _reflect_pad_phases(h, layer.radius)


def _reflect_pad_phases(h: torch.Tensor, radius: int) -> torch.Tensor:
    """Pad a 2x2 phase form by ``radius`` so that it is the phase form of the reflection-padded signal.

    Full-resolution row ``-t`` mirrors row ``t``; in phase form, phase 0 of row ``-j`` is phase 0 of
    row ``j`` and phase 1 of row ``-j`` is phase 1 of row ``j - 1`` (and likewise at the far edge and
    for columns).
    """
    n, c, height, width = h.shape
    out = F.pad(h, [radius] * 4).contiguous(memory_format=torch.channels_last)
    grid = out.view(n, c // 4, 2, 2, height + 2 * radius, width + 2 * radius)
    r = radius
    for j in range(1, r + 1):
        for phase in (0, 1):
            grid[:, :, phase, :, r - j, r : r + width] = grid[:, :, phase, :, r + j - phase, r : r + width]
            grid[:, :, phase, :, r + height - 1 + j, r : r + width] = grid[:, :, phase, :, r + height - j - phase, r : r + width]
    for j in range(1, r + 1):
        for phase in (0, 1):
            grid[:, :, :, phase, :, r - j] = grid[:, :, :, phase, :, r + j - phase]
            grid[:, :, :, phase, :, r + width - 1 + j] = grid[:, :, :, phase, :, r + width - j - phase]
    return out


def region_moments(
    h: torch.Tensor, margins: Sequence[Margins], groups: int, block_elements: int = 1 << 20
) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-channel mean and variance over the batch, leaving out each image's ``margins``.

    ``h`` is channels-last; every ``groups`` consecutive channels are the phases of one channel and
    count as one. Sums run as matrix-vector products over row blocks, accumulated in float64: the
    reductions torch offers for channels-last tensors are many times slower on the CPU. Blocks are
    large (about ``block_elements`` values) so that few parallel regions start: on a busy machine each
    one can wait for a time slice.
    """
    if not h.is_contiguous(memory_format=torch.channels_last):
        h = h.contiguous(memory_format=torch.channels_last)
    n, c, height, width = h.shape
    acc = torch.float32 if h.device.type == "mps" else torch.float64  # MPS has no float64
    sums = torch.zeros(2, c, dtype=acc, device=h.device)
    count = 0
    for image, (top, bottom, left, right) in zip(range(n), margins):
        rows, cols = height - top - bottom, width - left - right
        rows_per_block = max(1, min(rows, block_elements // (cols * c)))
        ones = torch.ones(1, rows_per_block, dtype=h.dtype, device=h.device)
        square = torch.empty(rows_per_block, cols * c, dtype=h.dtype, device=h.device)
        total = torch.zeros(2, cols * c, dtype=acc, device=h.device)
        offset = h.storage_offset() + image * height * width * c + (top * width + left) * c
        region = torch.as_strided(h, (rows, cols * c), (width * c, 1), offset)
        for first in range(0, rows, rows_per_block):
            block = region[first : first + rows_per_block]
            k = block.shape[0]
            total[0] += (ones[:, :k] @ block)[0]
            total[1] += (ones[:, :k] @ torch.mul(block, block, out=square[:k]))[0]
        sums += total.view(2, cols, c).sum(dim=1)
        count += rows * cols
    per_channel = sums.view(2, c // groups, groups).sum(dim=2) / (count * groups)
    mean, mean_sq = per_channel
    return mean.float(), (mean_sq - mean * mean).clamp_min(0).float()


def _to_factor(h: torch.Tensor, current: int, wanted: int) -> torch.Tensor:
    """Convert between plain (1) and 2x2 phase (2) forms."""
    if current == wanted:
        return h
    h = F.pixel_unshuffle(h, 2) if wanted == 2 else F.pixel_shuffle(h, 2)
    return h.contiguous(memory_format=torch.channels_last)
