"""Transport benchmark: a no-op job's round trip through the engine server, beside a memcpy of the same bytes.

Sends 1024² and 4096² RGBA images (uint8 and uint16) to an in-process server whose stylizer returns
the content unchanged, and times ``EngineClient.stylize`` end to end (send, queue, worker, reply,
receive), three ways: pixels inline over tcp, inline over ipc, and in shared memory (what a client on
the engine's machine uses by default). The reference is a memcpy (``np.copyto``) of the same bytes in
the same run. Target: a 4096² RGBA8 round trip within 10x a memcpy of its 64 MiB on the default path.

    python bench/transport.py [--repeats 5] [--json bench/results/transport.json]
"""
from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Dict, List, Optional

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine.client import EngineClient, Image  # noqa: E402
from engine.client.shm import available as shm_available  # noqa: E402
from engine.server.router import Server, ServerConfig  # noqa: E402
from engine.server.stylize_request import Limits  # noqa: E402

SIDES = (1024, 4096)
DTYPES = ("uint8", "uint16")
TARGET_RATIO = 10.0


class NoOpStylizer:
    """Returns the content unchanged: the round trip measures the transport alone."""

    device = "cpu"

    def context_margin(self, method: str) -> int:
        return 0

    def stylize(self, content: np.ndarray, **kwargs: Any) -> np.ndarray:
        return content


def median_s(action, repeats: int) -> float:
    """Median wall time of ``action()`` over ``repeats`` runs, after one warm-up run."""
    action()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def measure(endpoint: str, side: int, dtype: str, repeats: int) -> Dict[str, Any]:
    pixels = np.random.default_rng(0).integers(0, np.iinfo(dtype).max, (side, side, 4), dtype=dtype)
    image = Image(side, side, 4, dtype, pixels.data)
    target = np.empty_like(pixels)
    with EngineClient(endpoint, timeout_s=120) as client:
        round_trip = median_s(lambda: client.stylize(image, [{"preset": "none"}]), repeats)
        result = client.stylize(image, [{"preset": "none"}])
        assert bytes(result.image.data[:4096]) == pixels.tobytes()[:4096], "the round trip changed the pixels"
    memcpy = median_s(lambda: np.copyto(target, pixels), repeats)
    return {"side": side, "dtype": dtype, "mib": pixels.nbytes / 2 ** 20,
            "round_trip_ms": round_trip * 1e3, "memcpy_ms": memcpy * 1e3, "ratio": round_trip / memcpy,
            "round_trip_gib_s": 2 * pixels.nbytes / round_trip / 2 ** 30}


def serve(endpoint: str, shared_memory: Optional[Path]) -> Server:
    limits = Limits(max_side=max(SIDES), max_pixels=max(SIDES) ** 2)
    server = Server(ServerConfig(endpoint=endpoint, limits=limits, max_queued_bytes=1 << 30,
                                 shared_memory=shared_memory), NoOpStylizer)
    threading.Thread(target=server.serve, daemon=True).start()
    server.wait_ready(30)
    return server


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--json", type=Path, default=ROOT / "bench" / "results" / "transport.json")
    args = parser.parse_args()
    rows: List[Dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        shm = Path(tmp) / "shm"
        shm.mkdir(mode=0o700)
        paths = [("tcp", "tcp://127.0.0.1:*", None), ("ipc", f"ipc://{tmp}/inline.sock", None)]
        if shm_available():
            paths.append(("shm", f"ipc://{tmp}/shm.sock", shm))
        for transport, endpoint, shared in paths:
            server = serve(endpoint, shared)
            try:
                for side in SIDES:
                    for dtype in DTYPES:
                        rows.append(dict(measure(server.endpoint, side, dtype, args.repeats), transport=transport))
                        print_row(rows[-1], header=len(rows) == 1)
            finally:
                server.stop()
    default = paths[-1][0]
    check = next(r for r in rows if r["side"] == 4096 and r["dtype"] == "uint8" and r["transport"] == default)
    met = check["ratio"] <= TARGET_RATIO
    print(f"\ntarget: 4096² RGBA8 round trip <= {TARGET_RATIO:g}x memcpy of 64 MiB on the default local path "
          f"({default}): {check['ratio']:.1f}x " + ("(met)" if met else "(MISSED)"))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"machine": platform.platform(), "python": platform.python_version(),
                                     "repeats": args.repeats, "target_ratio": TARGET_RATIO, "target_met": met,
                                     "rows": rows}, indent=2))
    print(f"wrote {args.json}")
    return 0 if met else 1


def print_row(row: Dict[str, Any], header: bool) -> None:
    if header:
        print(f"{'transport':9} {'image':>16} {'MiB':>6} {'round trip ms':>14} {'memcpy ms':>10} {'ratio':>6} "
              f"{'GiB/s':>6}")
    image = f"{row['side']}² RGBA {row['dtype'][4:]}-bit"
    print(f"{row['transport']:9} {image:>16} {row['mib']:6.0f} {row['round_trip_ms']:14.1f} "
          f"{row['memcpy_ms']:10.2f} {row['ratio']:6.1f} {row['round_trip_gib_s']:6.2f}")


if __name__ == "__main__":
    sys.exit(main())
