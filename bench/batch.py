"""Batch throughput: the one-process batch (``restyle stylize FILES -o DIR``) against Ray with 1 and 2 workers.

The same files in every case: the bench photos resized to --size, each repeated to --files JPEGs. Each case
is one whole batch, from the call to the last file written (PNG): the one-process batch twice, the CLI's
batch path in this process (a new Stylizer each round, but torch imported and the weights in memory) and the
``restyle`` command in its own process (as a user runs it: Python started, torch imported, the nets loaded);
the Ray cases call ``engine.cluster.stylize_files`` on a Ray started once on this machine (its start is
reported apart), whose workers are new processes each round (importing torch, loading the nets). The cases
take turns, one batch each per round; medians over rounds. The reference is the in-process one-process case
of the same run:

- overhead per file = (Ray 1 worker - one process) / files, the whole batch (what the issue asks for);
- steady overhead per file: the same over the files after the first (the time from the first file written
  to the last, / (files - 1)), which leaves out the workers' start-up;
- overhead per file against the ``restyle`` command: (Ray 1 worker - the command) / files;
- first file after: start-up plus one file.

    python bench/batch.py [--files 24] [--size 1024x768] [--rounds 2] [--json bench/results/batch.json]
"""
from __future__ import annotations

import argparse
import contextlib
import io
import json
import logging
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

from PIL import Image

REPO = Path(__file__).resolve().parents[1]
BENCH = REPO.parent / "shared" / "bench"
sys.path.insert(0, str(REPO))

import engine  # noqa: E402,F401  (before torch: it sets the engine's OpenMP policy)
from engine.cli import main as restyle  # noqa: E402
from engine.cluster import stylize_files  # noqa: E402

STYLE = BENCH / "style" / "la_muse.jpg"


def make_files(folder: Path, count: int, size: tuple[int, int]) -> list[Path]:
    """``count`` JPEGs: the bench photos at ``size``, taken in turn."""
    photos = sorted((BENCH / "content").glob("*.jpg"))
    files = []
    for k in range(count):
        files.append(folder / f"{k:03d}_{photos[k % len(photos)].stem}.jpg")
        Image.open(photos[k % len(photos)]).convert("RGB").resize(size, Image.LANCZOS).save(files[-1], quality=92)
    return files


class LineTimes(io.TextIOBase):
    """A stdout that notes when each line is written (the CLI prints one per file written)."""

    def __init__(self) -> None:
        self.times: list[float] = []

    def write(self, text: str) -> int:
        self.times += [time.perf_counter()] * text.count("\n")
        return len(text)


def one_process(files: list[Path], out: Path) -> list[float]:
    """The CLI batch in this process; the time each file was written."""
    lines = LineTimes()
    with contextlib.redirect_stdout(lines):
        assert restyle(["stylize", *map(str, files), "--style", str(STYLE), "-o", str(out), "-q"]) == 0
    return lines.times


def own_process(files: list[Path], out: Path) -> list[float]:
    """The ``restyle`` command in a process of its own; the time each file's line came."""
    command = [str(Path(sys.executable).parent / "restyle"), "stylize", *map(str, files), "--style", str(STYLE),
               "-o", str(out), "-q"]
    times = []
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=dict(os.environ, PYTHONUNBUFFERED="1")) as proc:
        for _ in proc.stdout:
            times.append(time.perf_counter())
    assert proc.returncode == 0
    return times


def on_ray(workers: int) -> Callable[[list[Path], Path], list[float]]:
    def run(files: list[Path], out: Path) -> list[float]:
        times: list[float] = []
        outcomes = stylize_files(files, out, str(STYLE), workers=workers, on_file=lambda _: times.append(time.perf_counter()))
        assert not any(o.failed for o in outcomes), [o.error for o in outcomes if o.failed]
        return times
    return run


def measure(run: Callable[[list[Path], Path], list[float]], files: list[Path], out: Path) -> dict:
    started = time.perf_counter()
    times = run(files, out)
    wall = time.perf_counter() - started
    assert len(times) == len(files) and len(list(out.iterdir())) == len(files)
    return {"wall_s": wall, "first_s": times[0] - started, "steady_s_per_file": (times[-1] - times[0]) / (len(files) - 1)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=24)
    parser.add_argument("--size", default="1024x768", help="WxH of every file")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--json", type=Path, default=REPO / "bench" / "results" / "batch.json")
    args = parser.parse_args()
    size = tuple(int(v) for v in args.size.lower().split("x"))
    import ray

    started = time.perf_counter()
    ray.init(address="local", num_cpus=2, include_dashboard=False, logging_level=logging.ERROR)
    ray_start_s = time.perf_counter() - started
    cases = {"one process": one_process, "one process, `restyle` command": own_process, "Ray, 1 worker": on_ray(1),
             "Ray, 2 workers": on_ray(2)}
    results: dict[str, list[dict]] = {name: [] for name in cases}
    with tempfile.TemporaryDirectory() as tmp:
        files = make_files(Path(tmp), args.files, size)
        for r in range(args.rounds):
            for name, run in cases.items():
                out = Path(tmp) / f"out_{r}_{list(cases).index(name)}"
                results[name].append(measure(run, files, out))
                print(f"round {r + 1}: {name}: {results[name][-1]['wall_s']:.2f} s", file=sys.stderr)
    ray.shutdown()

    median = {name: {key: statistics.median(m[key] for m in runs) for key in runs[0]} for name, runs in results.items()}
    base, command, ray1 = median["one process"], median["one process, `restyle` command"], median["Ray, 1 worker"]
    megapixels = size[0] * size[1] / 1e6
    rows = []
    for name, m in median.items():
        rows.append({"case": name, **m, "files_per_s": args.files / m["wall_s"],
                     "megapixels_per_s": args.files * megapixels / m["wall_s"],
                     "steady_files_per_s": 1 / m["steady_s_per_file"], "vs_one_process": base["wall_s"] / m["wall_s"]})
    overhead = (ray1["wall_s"] - base["wall_s"]) / args.files
    steady_overhead = ray1["steady_s_per_file"] - base["steady_s_per_file"]
    command_overhead = (ray1["wall_s"] - command["wall_s"]) / args.files

    print(f"\n{args.files} files of {size[0]}x{size[1]} ({megapixels:.2f} MP), style {STYLE.name}, "
          f"median of {args.rounds} rounds; a local Ray started in {ray_start_s:.1f} s\n")
    print("| case | batch | files/s | MP/s | first file after | steady files/s | speed vs one process |")
    print("|---|---|---|---|---|---|---|")
    for row in rows:
        print(f"| {row['case']} | {row['wall_s']:.1f} s | {row['files_per_s']:.2f} | {row['megapixels_per_s']:.2f} | "
              f"{row['first_s']:.1f} s | {row['steady_files_per_s']:.2f} | {row['vs_one_process']:.2f}× |")
    print(f"\nRay overhead per file (1 worker - one process, whole batch / files): {overhead * 1e3:.0f} ms; "
          f"steady (after the first file): {steady_overhead * 1e3:.0f} ms; against the `restyle` command: "
          f"{command_overhead * 1e3:.0f} ms")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({
        "machine": platform.platform(), "python": platform.python_version(), "ray": ray.__version__,
        "files": args.files, "size": list(size), "rounds": args.rounds, "ray_start_s": ray_start_s,
        "cases": rows, "runs": results, "overhead_per_file_s": overhead, "steady_overhead_per_file_s": steady_overhead,
        "overhead_per_file_vs_command_s": command_overhead,
    }, indent=2))
    print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
