"""Fixtures for the real-host tests; with RESTYLE_REQUIRE_HOSTS=1 a skipped host test fails."""
from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Callable, Iterator

import pytest

from . import rootfs


def hosts_required() -> bool:
    """Whether skipping a real-host test counts as a failure (CI sets RESTYLE_REQUIRE_HOSTS=1)."""
    return os.environ.get("RESTYLE_REQUIRE_HOSTS", "") not in ("", "0")


@pytest.fixture(scope="session")
def host_base() -> Path:
    """The cached read-only Debian 13 root with Krita and GIMP; built on first use (about 70 s)."""
    try:
        return rootfs.cached_root()
    except rootfs.HostsUnavailable as exc:
        pytest.skip(f"real-host tests cannot run here: {exc}")


@pytest.fixture
def host(host_base: Path) -> Iterator[rootfs.HostRoot]:
    """A fresh writable overlay on the base root with proc and dev mounted, removed afterwards."""
    try:
        with rootfs.session(host_base) as root:
            yield root
    except rootfs.HostsUnavailable as exc:
        pytest.skip(f"real-host tests cannot enter the root: {exc}")


@pytest.fixture
def fresh_host(host_base: Path) -> Iterator[Callable[[], rootfs.HostRoot]]:
    """Opens a new fresh overlay each time it is called (for a run that must start over); all removed afterwards."""
    with contextlib.ExitStack() as stack:

        def make() -> rootfs.HostRoot:
            try:
                return stack.enter_context(rootfs.session(host_base))
            except rootfs.HostsUnavailable as exc:
                pytest.skip(f"real-host tests cannot enter the root: {exc}")

        yield make


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    """Turn a skip of a test in tests/hosts into a failure when the hosts are required."""
    outcome = yield
    report = outcome.get_result()
    if report.skipped and hosts_required() and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"RESTYLE_REQUIRE_HOSTS=1, so this skip is a failure: {reason}"
