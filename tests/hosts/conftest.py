"""Fixtures for the real-host tests; with RESTYLE_REQUIRE_HOSTS=1 a skipped host test fails."""
from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Callable, Dict, Iterator

import pytest

from . import rootfs


def hosts_required() -> bool:
    """Whether skipping a real-host test counts as a failure (CI sets RESTYLE_REQUIRE_HOSTS=1)."""
    return os.environ.get("RESTYLE_REQUIRE_HOSTS", "") not in ("", "0")


@pytest.fixture(scope="session")
def host_roots() -> Callable[[rootfs.Recipe], Path]:
    """The cached read-only root of a recipe, built on first use (70 s to 135 s); skips when it cannot be."""
    built: Dict[str, Path] = {}

    def get(recipe: rootfs.Recipe) -> Path:
        if recipe.name not in built:
            try:
                built[recipe.name] = rootfs.cached_root(recipe)
            except rootfs.HostsUnavailable as exc:
                pytest.skip(f"real-host tests cannot run here ({recipe.name} root): {exc}")
        return built[recipe.name]

    return get


@pytest.fixture(scope="session")
def host_base(host_roots: Callable[[rootfs.Recipe], Path]) -> Path:
    """The Debian 13 root (Krita 5.2, GIMP 3.0)."""
    return host_roots(rootfs.TRIXIE)


@pytest.fixture
def host(host_base: Path) -> Iterator[rootfs.HostRoot]:
    """A fresh writable overlay on the Debian 13 root with proc and dev mounted, removed afterwards."""
    try:
        with rootfs.session(host_base) as root:
            yield root
    except rootfs.HostsUnavailable as exc:
        pytest.skip(f"real-host tests cannot enter the root: {exc}")


@pytest.fixture
def fresh_host(host_roots: Callable[[rootfs.Recipe], Path]) -> Iterator[Callable[[rootfs.Recipe], rootfs.HostRoot]]:
    """Opens a new fresh overlay on a recipe's root each time it is called (for a run that must start over);
    all removed afterwards."""
    with contextlib.ExitStack() as stack:

        def make(recipe: rootfs.Recipe) -> rootfs.HostRoot:
            base = host_roots(recipe)
            try:
                return stack.enter_context(rootfs.session(base))
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
