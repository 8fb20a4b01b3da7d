"""Stroke size and sharpness: style scale 1, 2, 4 and auto on the bench photos, before and after the detail pass.

For each photo (centre square, resized to --size) and a painting as the style:

- detail ratio: Laplacian energy (mean squared 4-neighbour Laplacian of the grey image) of the result
  at scale s over that of the scale-1 result;
- stroke check: the result shrunk by s against the plain stylization of the photo shrunk by s (the
  strokes scale s asks for) and against the scale-1 result shrunk by s (the strokes of scale 1); the
  strokes are big when the first distance is the smaller (ratio < 1);
- time over the scale-1 time, paired per round (the cases take turns, one job each per round).

"Before" is ``detail=0`` (the net at 1/s of the size, scaled up: what the engine did before);
"after" is the default, ``detail=1``. ``--approaches`` also runs the other ways tried at scale 4
(same measures), for the README.

    python bench/detail.py                       # 2048², 8 photos, prints a table, writes bench/results/detail.json
    python bench/detail.py --photos chicago.jpg --rounds 1 --approaches
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Callable

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
BENCH = REPO.parent / "shared" / "bench"
sys.path.insert(0, str(REPO))

import engine  # noqa: E402  (before torch: it sets the engine's OpenMP policy)
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from engine.client.geometry import Bounds, Extent  # noqa: E402
from engine.imaging.resample import resize, resize_tensor, to_array, to_tensor  # noqa: E402
from engine.methods.base import RegionJob, StyleRef  # noqa: E402
from engine.methods.transformer_runner import run_transformer  # noqa: E402
from engine.nets.fast_form import FastTransformer  # noqa: E402
from engine.style_scale import auto_style_scale  # noqa: E402

PHOTOS = ["avril.jpg", "chicago.jpg", "cornell.jpg", "flowers.jpg", "golden_gate.jpg", "lenna.jpg", "modern.jpg",
          "sailboat.jpg"]
STYLES = ["la_muse.jpg", "brushstrokes.jpg", "the_resevoir_at_poitiers.jpg", "woman_with_hat_matisse.jpg"]
SCALES: list = [2, 4, "auto"]
LAPLACIAN = torch.tensor([[0.0, 1.0, 0.0], [1.0, -4.0, 1.0], [0.0, 1.0, 0.0]])[None, None]


def load_square(kind: str, name: str, side: int) -> np.ndarray:
    """The centre square of a bench image, resized to ``side`` x ``side`` (uint8 RGB)."""
    image = Image.open(BENCH / kind / name).convert("RGB")
    edge = min(image.size)
    left, top = (image.width - edge) // 2, (image.height - edge) // 2
    return np.asarray(image.crop((left, top, left + edge, top + edge)).resize((side, side), Image.LANCZOS))


def as_float(pixels: np.ndarray) -> np.ndarray:
    return pixels.astype(np.float32) / 255.0


def laplacian_energy(rgb: np.ndarray) -> float:
    """Mean squared Laplacian of the grey image (0..1 values): the energy of the finest detail."""
    grey = torch.from_numpy(np.ascontiguousarray(rgb.mean(axis=2)))[None, None]
    return float((F.conv2d(grey, LAPLACIAN) ** 2).mean())


def shrink(rgb: np.ndarray, factor: float) -> np.ndarray:
    """``rgb`` made ``factor`` times smaller (antialiased bicubic, as the engine shrinks)."""
    return resize(rgb, Extent(rgb.shape[1], rgb.shape[0]).scaled(1.0 / factor))


def stroke_ratio(result: np.ndarray, scale: float, plain_low: np.ndarray, scale_one: np.ndarray) -> float:
    """Distance of ``result`` shrunk by ``scale`` to the plain low-resolution stylization, over that to scale 1."""
    small = shrink(result, scale)
    return float(np.abs(small - plain_low).mean() / np.abs(small - shrink(scale_one, scale)).mean())


def timed(job: Callable[[], np.ndarray]) -> tuple[np.ndarray, float]:
    start = time.perf_counter()
    out = job()
    return out, time.perf_counter() - start


def measure_photo(stylizer, photo: str, style_name: str, size: int, rounds: int) -> dict:
    """Every case on one photo: detail ratio, stroke ratio and time ratio to scale 1 (paired per round)."""
    content = load_square("content", photo, size)
    style = np.asarray(Image.open(BENCH / "style" / style_name).convert("RGB"))
    cases = {"1": dict(style_scale=1.0)}
    for scale in SCALES:
        for label, detail in (("before", 0.0), ("after", 1.0)):
            cases[f"{scale} {label}"] = dict(style_scale=scale, detail=detail)
    stylizer.stylize(content, style)  # warm-up: nets, style vector, working memory
    outputs: dict[str, np.ndarray] = {}
    seconds: dict[str, list[float]] = {name: [] for name in cases}
    names = list(cases)
    for r in range(rounds):
        for i in range(len(names)):
            name = names[(i + r) % len(names)]
            outputs[name], s = timed(lambda: stylizer.stylize(content, style, **cases[name]))
            seconds[name].append(s)
    reference = as_float(outputs["1"])
    energy_one = laplacian_energy(reference)
    result = {"photo": photo, "style": style_name, "size": size, "energy_scale1": energy_one,
              "energy_photo": laplacian_energy(as_float(content)), "ms_scale1": 1000 * statistics.median(seconds["1"]),
              "cases": {}}
    for scale in SCALES:
        factor = auto_style_scale(size, size) if scale == "auto" else float(scale)
        plain_low = stylizer.stylize(shrink(as_float(content), factor), style)  # float in, float out
        for label in ("before", "after"):
            name = f"{scale} {label}"
            out = as_float(outputs[name])
            ratios = [a / b for a, b in zip(seconds[name], seconds["1"])]
            result["cases"][name] = {
                "scale": factor,
                "detail_ratio": laplacian_energy(out) / energy_one,
                "stroke_ratio": stroke_ratio(out, factor, plain_low, reference),
                "ms": 1000 * statistics.median(seconds[name]),
                "time_ratio": statistics.median(ratios),
                "time_ratios": ratios,
            }
    return result


def approaches(stylizer, photo: str, style_name: str, size: int, scale: int = 4) -> dict:
    """The ways tried to sharpen a style-scale-``scale`` result, on one photo, with the same measures."""
    method = stylizer._method("arbitrary")
    content = as_float(load_square("content", photo, size))
    style = as_float(np.asarray(Image.open(BENCH / "style" / style_name).convert("RGB")))
    box = Bounds(0, 0, size, size)
    ref = StyleRef(image=style, key=style_name)
    full, low = Extent(size, size), Extent(size // scale, size // scale)
    x = to_tensor(content)
    cond = method.conditioning(RegionJob((ref,), 1.0, box, box), x)

    def net(image: torch.Tensor, conditioning=cond) -> torch.Tensor:
        return run_transformer(method.transformer, conditioning, method.plan, image, method.tiling)

    def upscaled() -> torch.Tensor:
        return resize_tensor(net(resize_tensor(x, low)), full)

    def guided_filter() -> torch.Tensor:  # He et al., fast guided filter: coefficients at low resolution
        small = resize_tensor(x, low)
        return guided_upsample(small.mean(1, keepdim=True), net(small), x.mean(1, keepdim=True), radius=1, eps=1e-4)

    def photo_high_frequencies() -> torch.Tensor:  # Laplacian-pyramid transfer of the photo's finer bands
        small = resize_tensor(x, low)
        return (resize_tensor(net(small), full) + x - resize_tensor(small, full)).clamp(0, 1)

    def coarse_statistics() -> torch.Tensor:  # full resolution, instance-norm statistics of the coarse image
        record: list = []
        fast = FastTransformer(method.transformer, cond, method.plan)
        fast(resize_tensor(x, low), record=record)
        return fast.freeze(record)(x)

    def coarse_upscaled() -> torch.Tensor:
        return resize_tensor(net(resize_tensor(x, low)), full, mode="bilinear")

    def second_pass_whole() -> torch.Tensor:  # neural-style's "upres": every frequency from the second pass
        return net(coarse_upscaled())

    def second_pass_half_strength() -> torch.Tensor:  # the same, style vector half-way to the input's own
        coarse = coarse_upscaled()
        vector = 0.5 * method.cached_style_vector(ref) + 0.5 * method.style_vector(coarse)
        return net(coarse, method.nets.conditioner(vector))

    def second_pass_fine_band() -> torch.Tensor:  # what the engine does (detail=1)
        return method.sharpen(net(resize_tensor(x, low)), full, cond, detail=1.0)

    ways = {"upscaled (before)": upscaled, "guided filter upsampling": guided_filter,
            "photo high frequencies (Laplacian pyramid)": photo_high_frequencies,
            "full resolution, coarse statistics": coarse_statistics,
            "second pass, all frequencies": second_pass_whole,
            "second pass, all frequencies, half strength": second_pass_half_strength,
            "second pass, frequencies above the working size (kept)": second_pass_fine_band}
    with torch.inference_mode():
        reference, scale_one_s = None, []
        for _ in range(2):
            reference, s = timed(lambda: to_array(net(x)))
            scale_one_s.append(s)
        plain_low = to_array(net(resize_tensor(x, low)))
        energy_one = laplacian_energy(reference)
        results = {}
        for name, way in ways.items():
            runs = [timed(lambda: to_array(way())) for _ in range(2)]
            out = runs[-1][0]
            results[name] = {"detail_ratio": laplacian_energy(out) / energy_one,
                             "stroke_ratio": stroke_ratio(out, scale, plain_low, reference),
                             "time_ratio": min(s for _, s in runs) / min(scale_one_s)}
    return {"photo": photo, "style": style_name, "size": size, "scale": scale, "approaches": results}


def guided_upsample(guide_low: torch.Tensor, target_low: torch.Tensor, guide: torch.Tensor, radius: int,
                    eps: float) -> torch.Tensor:
    """Fast guided filter: local linear fits of ``target_low`` on ``guide_low``, applied to the full ``guide``."""
    def mean(t: torch.Tensor) -> torch.Tensor:
        return F.avg_pool2d(F.pad(t, [radius] * 4, mode="replicate"), 2 * radius + 1, stride=1)

    mean_g, mean_t = mean(guide_low), mean(target_low)
    gain = (mean(guide_low * target_low) - mean_g * mean_t) / (mean(guide_low * guide_low) - mean_g**2 + eps)
    offset = mean_t - gain * mean_g
    size = guide.shape[-2:]
    gain = F.interpolate(mean(gain), size=size, mode="bilinear", align_corners=False)
    offset = F.interpolate(mean(offset), size=size, mode="bilinear", align_corners=False)
    return (gain * guide + offset).clamp(0, 1)


MEASURES = (("detail_ratio", "detail ratio", min), ("stroke_ratio", "stroke check (< 1: big strokes)", max),
            ("time_ratio", "time / scale 1", max))  # key, column, the worst photo


def table(results: list[dict]) -> str:
    """The summary over photos: one row per style scale; each cell before → after, median (worst photo)."""
    header = " | ".join(f"{column}, before → after" for _, column, _ in MEASURES)
    lines = [f"| style scale | {header} |", "|---|---|---|---|"]
    for scale in SCALES:
        cells = []
        for key, _, worst in MEASURES:
            values = {label: [r["cases"][f"{scale} {label}"][key] for r in results] for label in ("before", "after")}
            cells.append(" → ".join(f"{statistics.median(v):.2f} ({worst(v):.2f})" for v in values.values()))
        factor = results[0]["cases"][f"{scale} after"]["scale"]
        name = f"auto (= {factor:g} at {results[0]['size']}²)" if scale == "auto" else str(scale)
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    ms = statistics.median(r["ms_scale1"] for r in results)
    lines += ["", f"{len(results)} photos at {results[0]['size']}², a painting each; median over photos, the worst photo "
                  f"in brackets; scale 1 takes {ms:.0f} ms (median). Stroke check: distance to the plain stylization of "
                  "the photo shrunk by s over distance to the scale-1 result shrunk by s, both at 1/s of the size."]
    return "\n".join(lines)


def approaches_table(found: list[dict]) -> str:
    """The ways tried, median over photos."""
    lines = [f"| way (scale {found[0]['scale']}, {found[0]['size']}²) | detail ratio | stroke check | time / scale 1 |",
             "|---|---|---|---|"]
    for name in found[0]["approaches"]:
        medians = [statistics.median(f["approaches"][name][key] for f in found) for key, _, _ in MEASURES]
        lines.append(f"| {name} | {medians[0]:.3f} | {medians[1]:.2f} | {medians[2]:.2f} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=2048)
    parser.add_argument("--photos", nargs="+", default=PHOTOS)
    parser.add_argument("--rounds", type=int, default=3, help="timed jobs per case")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--approaches", action="store_true", help="also measure the other ways tried, at scale 4")
    parser.add_argument("--out", default=str(REPO / "bench" / "results" / "detail.json"))
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    stylizer = engine.Stylizer(device="cpu")
    pairs = [(photo, STYLES[i % len(STYLES)]) for i, photo in enumerate(args.photos)]
    results = []
    for photo, style in pairs:
        results.append(measure_photo(stylizer, photo, style, args.size, args.rounds))
        print(f"  measured {photo} with {style}", file=sys.stderr)
    report = {"threads": args.threads, "results": results, "table": table(results)}
    print(report["table"])
    if args.approaches:
        found = [approaches(stylizer, photo, style, args.size) for photo, style in pairs]
        report.update(approaches=found, approaches_table=approaches_table(found))
        print()
        print(report["approaches_table"])
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, indent=2))
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
