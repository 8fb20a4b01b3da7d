"""CURVE key files for an engine reachable beyond loopback: generated once (``restyle keys generate``), the
pair read by the engine on start, the public key by clients. Standard library + pyzmq, Python >= 3.8.
"""
from __future__ import annotations

import datetime
import os
import sys
from pathlib import Path
from typing import Tuple, Union

import zmq
import zmq.auth

PUBLIC_NAME = "server.key"
SECRET_NAME = "server.key_secret"


class KeyFileError(Exception):
    """A key file cannot be written or read: ``message`` says what, ``hint`` what to do."""

    def __init__(self, message: str, hint: str) -> None:
        super().__init__(f"{message} ({hint})")
        self.message = message
        self.hint = hint


def keys_dir() -> Path:
    """The per-user folder for the engine's key files (``RESTYLE_CONFIG_DIR`` overrides its parent)."""
    override = os.environ.get("RESTYLE_CONFIG_DIR")
    if override:
        return Path(override) / "keys"
    if sys.platform == "win32":
        return Path(os.environ.get("APPDATA", str(Path.home() / "AppData" / "Roaming"))) / "restyle" / "keys"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / "restyle" / "keys"
    return Path(os.environ.get("XDG_CONFIG_HOME", str(Path.home() / ".config"))) / "restyle" / "keys"


def generate_keys(folder: Path) -> Tuple[Path, Path]:
    """Write a new CURVE key pair into ``folder`` (secret file mode 0600); never overwrite existing files."""
    if not zmq.has("curve"):
        raise KeyFileError("this pyzmq/libzmq build has no CURVE support", "install pyzmq from its official wheels")
    public_path, secret_path = folder / PUBLIC_NAME, folder / SECRET_NAME
    existing = [str(p) for p in (public_path, secret_path) if p.exists()]
    if existing:
        raise KeyFileError(f"key files already exist: {', '.join(existing)}",
                           "keep using them, or pass --dir with another folder")
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    public, secret = zmq.curve_keypair()
    stamp = datetime.datetime.now().isoformat(timespec="seconds")
    curve = f'curve\n    public-key = "{public.decode()}"\n'
    _write_new(secret_path, f"#   restyle engine CURVE secret key, {stamp}. Keep it private.\n\nmetadata\n"
                            f'{curve}    secret-key = "{secret.decode()}"\n', 0o600)
    _write_new(public_path, f"#   restyle engine CURVE public key, {stamp}. Give it to clients.\n\nmetadata\n{curve}",
               0o644)
    return public_path, secret_path


def _write_new(path: Path, text: str, mode: int) -> None:
    fd = os.open(str(path), os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)


def load_server_keys(secret_path: Path) -> Tuple[bytes, bytes]:
    """The ``(public, secret)`` Z85 keys from a secret key file written by :func:`generate_keys`."""
    if not secret_path.is_file():
        raise KeyFileError(f"no CURVE secret key file at {secret_path}", "create one with `restyle keys generate`")
    try:
        public, secret = zmq.auth.load_certificate(secret_path)
    except (OSError, ValueError) as e:
        raise KeyFileError(f"cannot read CURVE keys from {secret_path}: {e}",
                           "point --curve at the server.key_secret file `restyle keys generate` wrote") from None
    if not secret or len(public) != 40 or len(secret) != 40:
        raise KeyFileError(f"{secret_path} holds no CURVE secret key",
                           "point --curve at the server.key_secret file, not the public server.key")
    return public, secret


def public_key(key: Union[str, bytes]) -> bytes:
    """A Z85 CURVE public key given as the key itself or as the path of a ``server.key`` file."""
    if isinstance(key, bytes):
        key = key.decode("ascii")
    if len(key) == 40 and not os.path.exists(key):
        return key.encode("ascii")
    try:
        with open(key, encoding="utf-8") as f:
            for line in f:
                name, _, value = line.strip().partition("=")
                if name.strip() == "public-key":
                    return value.strip().strip('"').encode("ascii")
    except OSError as e:
        raise ValueError(f"server_public_key is neither a 40-character Z85 key nor a readable key file: {e}") from None
    raise ValueError(f"{key} holds no public-key line; pass the engine's server.key file")
