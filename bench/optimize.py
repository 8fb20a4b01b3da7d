"""The optimization method against a textbook reference loop, in the same run, plus init and memory.

1. Speed at equal loss curves. The reference is the textbook loop written from Gatys et al. 2016
   (as in the well-known Keras example): every iteration the content, the style and the output
   image go through the network together, targets (content features, style Grams) are recomputed,
   NCHW, nothing cached. Ours computes the targets once under ``torch.inference_mode`` and runs
   only the output image through the net. Both use the same losses, the same L-BFGS and the same
   starting image, so their loss curves must agree; the table shows the largest relative gap.
2. Peak memory per megapixel of ours, from peak RSS at two sizes (each case in its own process).
3. Iterations to the same loss from the fast method's result, from the content and from noise
   (MobileNet backbone, real weights).
4. One scale against coarse-to-fine at the same final size: time and final loss.

VGG-19 runs on a stand-in checkpoint (random weights in torchvision's layout: same speed and memory
as the real one) unless ``--weights`` points at the real file.

    python bench/optimize.py                 # prints tables, writes bench/results/optimize.json
    python bench/optimize.py --quick         # smaller: 256² only, fewer iterations
    python bench/optimize.py --sections speed --backbones mobilenet   # one part (merged into the JSON)
    python bench/optimize.py --sheet docs/optimize_sheet.png   # the contact sheet in docs/
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
CONTENT = REPO.parent / "shared" / "bench" / "content" / "golden_gate.jpg"
STYLE = REPO.parent / "shared" / "bench" / "style" / "la_muse.jpg"
RESULTS = REPO / "bench" / "results" / "optimize.json"
LEVELS = (4.0, 2.0, 1.5, 1.2, 1.1, 1.0)  # loss levels for the init comparison, x content-init's final loss


def _status_mb(field: str) -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _image(path: Path, size: int):
    import numpy as np
    from PIL import Image

    return np.asarray(Image.open(path).convert("RGB").resize((size, size), Image.LANCZOS), dtype=np.float32) / 255


def _backbone(name: str, weights: str | None, layout: str):
    import torch

    from engine.optimize.backbones import load_backbone

    net = load_backbone(name, Path(weights) if weights else None, torch.device("cpu"))
    if layout == "channels_last":
        net.memory_format = torch.channels_last
        net.to(memory_format=torch.channels_last)
    return net


def _options(iterations: int):
    from engine.optimize.options import OptimizeOptions

    return OptimizeOptions.from_dict({"iterations": iterations, "init": "content"})


def reference_loop(net, content, style, options, on_iteration) -> None:
    """The textbook loop: all three images through the net every iteration, targets recomputed."""
    import torch

    from engine.optimize.objective import interior, layer_weights, padded

    weights = layer_weights(net, None)
    layers = list(dict.fromkeys([*weights, net.content_layer]))
    image = content.clone().requires_grad_(True)
    optimizer = torch.optim.LBFGS([image], lr=1.0, max_iter=1, history_size=50)

    def gram(f):  # 3 x C x H x W -> 3 x C x C, as in the paper, NCHW
        flat = f.reshape(f.shape[0], f.shape[1], -1)
        return torch.bmm(flat, flat.transpose(1, 2)) / flat.shape[2]

    def closure():
        optimizer.zero_grad()
        batch = padded(torch.cat([content, style, image]), net.border)
        feats = {name: interior(f, net.border, *image.shape[-2:]) for name, f in net(batch, layers).items()}
        c = feats[net.content_layer]
        loss = options.content_weight * (c[2] - c[0]).square().sum() / c[0].square().sum()
        style_loss = 0
        for name, w in weights.items():
            g = gram(feats[name])
            style_loss = style_loss + w * (g[2] - g[1]).square().sum() / g[1].square().sum()
        loss = loss + options.style_weight * style_loss
        dx = (image[..., :, 1:] - image[..., :, :-1]).square().mean()
        dy = (image[..., 1:, :] - image[..., :-1, :]).square().mean()
        loss = loss + options.tv_weight * (dx + dy)
        loss.backward()
        return loss

    for _ in range(options.total_iterations):
        loss = optimizer.step(closure)
        on_iteration(float(loss.detach()))


def ours_loop(net, content, style, options, on_iteration) -> None:
    """engine.optimize.loop.optimize with a whole-image region (targets once, no grad for them)."""
    import torch

    from engine.optimize.loop import Problem, optimize
    from engine.optimize.objective import RegionStyles

    guides = torch.ones(1, content.shape[-2], content.shape[-1])
    problem = Problem(content, guides, (RegionStyles((style,), (1.0,)),), content)
    optimize(problem, net, options, progress=lambda r: on_iteration(r.losses["total"]))


def speed_case(impl: str, backbone: str, size: int, iterations: int, weights: str | None, layout: str) -> dict:
    """Run one loop in this process: per-iteration times and losses, peak memory."""
    import torch

    net = _backbone(backbone, weights, layout)
    content = torch.from_numpy(_image(CONTENT, size)).permute(2, 0, 1)[None].contiguous()
    style = torch.from_numpy(_image(STYLE, size)).permute(2, 0, 1)[None].contiguous()
    options = _options(iterations)
    loop = reference_loop if impl == "reference" else ours_loop
    loop(net, content, style, _options(1), lambda loss: None)  # warm-up (oneDNN picks its kernels)
    rss_before = _status_mb("VmRSS")
    stamps, losses = [time.perf_counter()], []

    def on_iteration(loss: float) -> None:
        stamps.append(time.perf_counter())
        losses.append(loss)

    loop(net, content, style, options, on_iteration)
    steps = [b - a for a, b in zip(stamps[1:], stamps[2:])]  # the first includes the target setup
    return {
        "impl": impl, "backbone": backbone, "size": size, "layout": layout, "iterations": iterations,
        "s_per_iteration": statistics.median(steps), "first_iteration_s": stamps[1] - stamps[0],
        "total_s": stamps[-1] - stamps[0],
        "losses": losses, "peak_rss_mb": _status_mb("VmHWM"), "rss_before_mb": rss_before,
    }


def method_case(size: int, options: dict) -> dict:
    """The optimize method (MobileNet) on the bench photo with ``options``: losses, time, peak memory."""
    import numpy as np
    import torch

    from engine.client.geometry import Bounds
    from engine.methods.base import MethodSettings, RegionJob, StyleRef
    from engine.methods.optimize import OptimizeMethod

    content, style = _image(CONTENT, size), _image(STYLE, size)
    full = Bounds(0, 0, size, size)
    region = RegionJob((StyleRef(image=style),), 1.0, full, full)
    losses = []
    started = time.perf_counter()
    settings = MethodSettings(extra={"backbone": "mobilenet", **options})
    OptimizeMethod(torch.device("cpu")).render(
        np.ascontiguousarray(content), [region], settings, lambda r: losses.append(r.losses["total"])
    )
    return {"size": size, "options": options, "losses": losses, "seconds": time.perf_counter() - started,
            "peak_rss_mb": _status_mb("VmHWM")}


def in_subprocess(kind: str, **kwargs) -> dict:
    """Run one case in a fresh interpreter, so that its peak RSS is its own."""
    command = [sys.executable, __file__, "--worker", json.dumps({"kind": kind, **kwargs})]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{kind} {kwargs} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def iterations_to(losses: list[float], target: float) -> int | None:
    """The first iteration (1-based) whose loss is at or below ``target``."""
    return next((i + 1 for i, loss in enumerate(losses) if loss <= target), None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--quick", action="store_true", help="256² only, fewer iterations")
    parser.add_argument("--weights", help="real VGG-19 checkpoint (default: a stand-in with random weights)")
    parser.add_argument("--threads", type=int, default=os.cpu_count(), help="torch threads")
    parser.add_argument("--repeat", type=int, default=2, help="runs of each speed case (the fastest counts)")
    parser.add_argument("--sheet", metavar="OUT.png", help="render the contact sheet instead of benchmarking")
    parser.add_argument("--sections", default="speed,init,multiscale", help="which parts to run (comma-separated)")
    parser.add_argument("--backbones", default="vgg19,mobilenet", help="backbones of the speed section")
    args = parser.parse_args()
    if args.sheet:
        render_sheet(Path(args.sheet))
        return
    if args.worker:
        import torch

        torch.set_num_threads(args.threads)
        job = json.loads(args.worker)
        kind = job.pop("kind")
        result = speed_case(**job) if kind == "speed" else method_case(**job)
        print(json.dumps(result))
        return

    os.environ["OMP_NUM_THREADS"] = str(args.threads)
    report = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    report.update(machine=f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores", threads=args.threads)
    sections = args.sections.split(",")
    if "speed" in sections:
        _speed(args, args.backbones.split(","), report)
    if "init" in sections:
        report["init"], report["init_levels"] = _init(args.quick)
    if "multiscale" in sections:
        report["multiscale"] = _multiscale(args.quick)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=1))
    print(f"\nwrote {RESULTS}")


def _speed(args: argparse.Namespace, backbones: list[str], report: dict) -> None:
    """Reference vs ours (both layouts) per backbone and size; rows for other backbones are kept."""
    sizes = [256] if args.quick else [256, 512]
    iterations = {256: 6 if args.quick else 10, 512: 5}
    rows = [r for r in report.get("speed", []) if r["backbone"] not in backbones]
    print(f"{'backbone':9} {'size':>5} {'impl':16} {'s/it':>7} {'it/s':>6} {'speedup':>7} "
          f"{'loss@1':>7} {'loss@N':>7} {'max gap':>8} {'peak MB':>8}")
    with tempfile.TemporaryDirectory() as tmp:
        weights = args.weights or _standin(Path(tmp) / "vgg19-standin.pth")
        report["vgg19_weights"] = "real" if args.weights else "stand-in (random)"
        for backbone in backbones:
            for size in sizes:
                cases = [("reference", "contiguous"), ("ours", "contiguous"), ("ours", "channels_last")]
                best: dict[tuple, dict] = {}
                for _ in range(args.repeat):  # interleaved, so that load from others hits all alike
                    for impl, layout in cases:
                        r = in_subprocess("speed", impl=impl, backbone=backbone, size=size,
                                          iterations=iterations[size], weights=weights if backbone == "vgg19" else None,
                                          layout=layout)
                        key = (impl, layout)
                        if key not in best or r["s_per_iteration"] < best[key]["s_per_iteration"]:
                            best[key] = r
                ref = best[("reference", "contiguous")]
                for (impl, layout), r in best.items():
                    r["speedup"] = ref["s_per_iteration"] / r["s_per_iteration"]
                    r["loss_gap"] = max(abs(a - b) / abs(b) for a, b in zip(r["losses"], ref["losses"]))
                    rows.append(r)
                    label = impl if layout == "contiguous" else f"{impl} (NHWC)"
                    print(f"{backbone:9} {size:5} {label:16} {r['s_per_iteration']:7.3f} {1 / r['s_per_iteration']:6.2f} "
                          f"{r['speedup']:6.2f}x {r['losses'][0]:7.4f} {r['losses'][-1]:7.4f} {r['loss_gap']:8.1e} "
                          f"{r['peak_rss_mb']:8.0f}")
    report["speed"] = rows
    report["memory"] = {**report.get("memory", {}), **_memory_slopes(rows, backbones, sizes)}
    for backbone in backbones:
        slope = report["memory"][backbone]
        print(f"{backbone}: peak memory of ours ≈ {slope['mb_per_megapixel']:.0f} MB per megapixel "
              f"(+{slope['base_mb']:.0f} MB fixed)")


def _init(quick: bool) -> tuple[list[dict], list[float]]:
    """Loss levels reached from each init, against content-init's final loss."""
    size, iterations = 256, (40 if quick else 100)
    runs = {init: in_subprocess("method", size=size, options={"init": init, "iterations": iterations})
            for init in ("content", "fast", "noise")}
    final = runs["content"]["losses"][-1]
    levels = [round(final * factor, 4) for factor in LEVELS]
    print(f"\nmobilenet {size}²: iterations needed to reach each loss level "
          f"(levels are multiples of content-init's loss after {iterations}: {final:.4f})")
    print(f"{'init':8} {'start':>7} {'final':>7}  " + " ".join(f"{level:>7.4f}" for level in levels))
    rows = []
    for init, r in runs.items():
        r["iterations_to_level"] = [iterations_to(r["losses"], level) for level in levels]
        r["init"], r["start_loss"], r["final_loss"] = init, r["losses"][0], r["losses"][-1]
        rows.append(r)
        reached = " ".join(f"{n if n else '-':>7}" for n in r["iterations_to_level"])
        print(f"{init:8} {r['start_loss']:7.4f} {r['final_loss']:7.4f}  {reached}")
    return rows, levels


def _multiscale(quick: bool) -> list[dict]:
    """One scale against coarse-to-fine (most iterations at half size), same final-size objective."""
    size, n = (256, 30) if quick else (512, 90)
    cases = {"1 scale": {"iterations": n}, "2 scales": {"scales": 2, "iterations": [n, n // 3]}}
    print(f"\nmobilenet {size}², init=fast: one scale vs coarse-to-fine (loss of the full-size objective)")
    print(f"{'case':10} {'iterations':>14} {'seconds':>8} {'final loss':>10} {'peak MB':>8}")
    rows = []
    for label, options in cases.items():
        r = in_subprocess("method", size=size, options={"init": "fast", **options})
        r["case"], r["final_loss"] = label, r["losses"][-1]
        rows.append(r)
        print(f"{label:10} {str(options['iterations']):>14} {r['seconds']:8.1f} {r['final_loss']:10.4f} {r['peak_rss_mb']:8.0f}")
    return rows


def render_sheet(path: Path, size: int = 256, tile: int = 192, iterations: int = 100) -> None:
    """Gram vs attention, colour control and regions on one photo (MobileNet backbone), labelled."""
    import numpy as np
    from PIL import Image

    import engine
    from engine.cli.contact_sheet import grid

    def load(p: Path, side: int) -> np.ndarray:
        return np.asarray(Image.open(p).convert("RGB").resize((side, side), Image.LANCZOS))

    def small(a: np.ndarray) -> np.ndarray:
        return np.asarray(Image.fromarray(a).resize((tile, tile), Image.LANCZOS))

    photo, muse = load(CONTENT, size), load(STYLE, size)
    matisse = load(STYLE.parent / "woman_with_hat_matisse.jpg", size)
    stylizer = engine.Stylizer(device="cpu")
    base = {"backbone": "mobilenet", "iterations": iterations}

    def optimize(options=None, **kwargs) -> np.ndarray:
        return stylizer.stylize(photo, muse if "regions" not in kwargs else None, method="optimize",
                                options={**base, **(options or {})}, **kwargs)

    left = np.zeros((size, size), np.float32)
    left[:, : size // 2] = 1
    yy, xx = np.mgrid[:size, :size]
    ellipse = (((xx - size / 2) / (size * 0.3)) ** 2 + ((yy - size / 2) / (size * 0.4)) ** 2 <= 1).astype(np.float32)
    tiles = [
        ("photo", photo),
        ("style: la_muse", muse),
        ("fast (arbitrary)", stylizer.stylize(photo, muse)),
        ("optimize: gram", optimize()),
        ("gram+attention", optimize({"fusion": "gram+attention"})),
        ("attention", optimize({"fusion": "attention"})),
        ("gram, preserve colors", optimize(preserve_colors=True)),
        ("gram, color=luminance", optimize({"color": "luminance"})),
        ("2 regions: muse|matisse", optimize(regions=[engine.Region(left, muse, feather=8),
                                                      engine.Region(1 - left, matisse, feather=8)])),
        ("masked (outside exact)", optimize(mask=ellipse, feather=6)),
    ]
    sheet = Image.fromarray(grid([(name, small(pixels)) for name, pixels in tiles], columns=5))
    sheet.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.FLOYDSTEINBERG).save(path, optimize=True)
    print(f"wrote {path} ({path.stat().st_size // 1024} KiB)")


def _memory_slopes(speed: list[dict], backbones: list[str], sizes: list[int]) -> dict:
    """Peak RSS growth per megapixel of ours (NCHW), fitted between the smallest and largest size."""
    slopes = {}
    for backbone in backbones:
        rows = {r["size"]: r for r in speed if r["backbone"] == backbone and r["impl"] == "ours" and r["layout"] == "contiguous"}
        small, large = rows[min(sizes)], rows[max(sizes)]
        if len(rows) > 1:
            per_mp = (large["peak_rss_mb"] - small["peak_rss_mb"]) / ((max(sizes) ** 2 - min(sizes) ** 2) / 1e6)
        else:
            per_mp = (small["peak_rss_mb"] - small["rss_before_mb"]) / (min(sizes) ** 2 / 1e6)
        slopes[backbone] = {"mb_per_megapixel": per_mp, "base_mb": large["peak_rss_mb"] - per_mp * max(sizes) ** 2 / 1e6}
    return slopes


def _standin(path: Path) -> str:
    sys.path.insert(0, str(REPO / "tests"))
    from test_optimize_standins import write_standin

    return str(write_standin(path))


if __name__ == "__main__":
    main()
