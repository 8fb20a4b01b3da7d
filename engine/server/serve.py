"""``restyle serve`` (the engine server the plugins talk to) and ``restyle keys generate`` (its CURVE keys)."""
from __future__ import annotations

import argparse
import logging
import logging.handlers
import signal
import sys
from pathlib import Path
from typing import Any, Optional

from ..client.discovery import DISCOVERY_NAME, RuntimeDirError, ensure_private_dir, ensure_runtime_dir, read_discovery
from ..client.keys import SECRET_NAME, KeyFileError, generate_keys, keys_dir, load_server_keys
from ..errors import BadInput, RestyleError
from .stylize_request import Limits


def add_commands(subparsers: Any) -> None:
    """Register ``serve`` and ``keys`` on the ``restyle`` argument parser's subparsers."""
    serve = subparsers.add_parser("serve", help="run the local engine that the Krita and GIMP plugins use")
    serve.add_argument("--endpoint", help="tcp://127.0.0.1:PORT or ipc://PATH (default: a private socket "
                                          "next to the discovery file)")
    serve.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps (default: auto)")
    serve.add_argument("--threads", type=int, help="CPU threads for torch (default: torch's choice)")
    serve.add_argument("--workers", type=_positive_int, default=1, help="jobs run at once (default: 1)")
    serve.add_argument("--max-queue", type=_positive_int, default=8, help="jobs that may wait (default: 8)")
    serve.add_argument("--max-side", type=_positive_int, default=Limits.max_side, help="longest image side accepted")
    serve.add_argument("--max-pixels", type=_positive_int, default=Limits.max_pixels, help="largest image accepted")
    serve.add_argument("--client-timeout", type=float, default=10.0, metavar="SECONDS",
                       help="cancel the jobs of a client silent this long (default: 10)")
    serve.add_argument("--curve", nargs="?", const=str(keys_dir() / SECRET_NAME), metavar="SECRET_KEY_FILE",
                       help="require CURVE encryption with this secret key file (default: from `restyle keys "
                            "generate`); needed to bind beyond loopback")
    serve.add_argument("--discovery-file", type=Path, help="where to tell clients the endpoint "
                                                           "(default: engine.json in the runtime folder)")
    serve.add_argument("--log-file", type=Path, help="default: engine.log next to the discovery file")
    serve.add_argument("--no-shared-memory", action="store_true",
                       help="send all pixels over the socket, even to clients on this machine")
    serve.add_argument("-v", "--verbose", action="store_true", help="log every message")
    serve.set_defaults(func=run_serve)

    keys = subparsers.add_parser("keys", help="manage the engine's CURVE keys")
    actions = keys.add_subparsers(dest="keys_command", metavar="ACTION")
    actions.required = True
    generate = actions.add_parser("generate", help="write a new server key pair")
    generate.add_argument("--dir", type=Path, help=f"folder for the key files (default: {keys_dir()})")
    generate.set_defaults(func=run_keys_generate)


def run_serve(args: argparse.Namespace) -> int:
    """Serve until interrupted; 2 with a one-line message when the options or the setup are wrong."""
    from .router import Server, ServerConfig, check_bind, default_endpoint, is_loopback
    from ..client.shm import available as shm_available

    try:
        discovery_file = args.discovery_file or ensure_runtime_dir() / DISCOVERY_NAME
        endpoint = args.endpoint or default_endpoint(discovery_file)
        curve_keys = load_server_keys(Path(args.curve)) if args.curve else None
        check_bind(endpoint, curve_keys is not None)
        if args.client_timeout <= 0 or (args.threads is not None and args.threads < 1):
            raise BadInput("--client-timeout and --threads must be positive", "pass e.g. --client-timeout 10")
        _refuse_second_engine(discovery_file)
        log_file = args.log_file or discovery_file.with_name("engine.log")
        shared = is_loopback(endpoint) and shm_available() and not args.no_shared_memory
        _setup_logging(log_file, args.verbose)
        config = ServerConfig(
            endpoint=endpoint, workers=args.workers, max_queue=args.max_queue,
            limits=Limits(args.max_side, args.max_pixels), client_timeout_s=args.client_timeout,
            curve_keys=curve_keys, discovery_file=discovery_file, log_file=log_file,
            shared_memory=ensure_private_dir(discovery_file.parent / "shm") if shared else None,
        )
        server = Server(config, lambda: _make_stylizer(args.device, args.threads))
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: server.stop())
        server.serve()
    except (RestyleError, RuntimeDirError, KeyFileError, OSError) as e:
        print(f"restyle serve: {e}", file=sys.stderr)
        return 2
    return 0


def run_keys_generate(args: argparse.Namespace) -> int:
    """Write a CURVE key pair and say how to use it; 2 if key files are already there."""
    folder = args.dir or keys_dir()
    try:
        public_path, secret_path = generate_keys(folder)
    except (KeyFileError, OSError) as e:
        print(f"restyle keys generate: {e}", file=sys.stderr)
        return 2
    public = load_server_keys(secret_path)[0].decode()
    print(f"public key: {public}")
    print(f"wrote {public_path} (give it to clients) and {secret_path} (keep it private)")
    print(f"serve beyond loopback with: restyle serve --endpoint tcp://0.0.0.0:PORT --curve {secret_path}")
    return 0


def _make_stylizer(device: str, threads: Optional[int]) -> Any:
    from ..stylizer import Stylizer

    return Stylizer(device=device, threads=threads)


def _refuse_second_engine(discovery_file: Path) -> None:
    from ..client.engine_client import EngineClient, EngineNotRunning

    info = read_discovery(discovery_file)
    if info is None:
        return
    client = EngineClient(info["endpoint"], timeout_s=1.0, server_public_key=info.get("curve_public_key"))
    try:
        client.ping(timeout_s=1.0)
    except EngineNotRunning:
        return
    finally:
        client.close()
    raise BadInput(f"an engine is already running (pid {info.get('pid')} at {info['endpoint']})",
                   "stop it first, or pass --discovery-file to run another one")


def _setup_logging(log_file: Path, verbose: bool) -> None:
    logger = logging.getLogger("restyle")
    logger.setLevel(logging.DEBUG if verbose else logging.INFO)
    formatter = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    log_file.parent.mkdir(parents=True, exist_ok=True)
    for handler in (logging.handlers.RotatingFileHandler(log_file, maxBytes=2 << 20, backupCount=2),
                    logging.StreamHandler(sys.stderr)):
        handler.setFormatter(formatter)
        logger.addHandler(handler)


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text} is not a positive integer")
    return value
