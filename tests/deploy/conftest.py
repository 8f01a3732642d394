"""Deploy tests: the shipped deploy files checked with real tools.

``slow_install`` tests install for real from Debian's packages and PyPI:
``deploy/install.sh`` in a debootstrapped Debian 12 root with systemctl
stubbed (``chroot.py``) and in one booted with real systemd (``machine.py``),
and a rehearsal of the image build (minutes). They are skipped unless
``CALFBOT_INSTALL_TEST=1``; with it, anything they need that is missing is a
failure. The other tests need ``shellcheck`` and ``systemd-analyze`` and skip
without them unless ``CALFBOT_REQUIRE_DEPLOY_TOOLS=1`` (CI sets both).
"""

from __future__ import annotations

import os
import shutil

import pytest

INSTALL_ENV = "CALFBOT_INSTALL_TEST"
REQUIRE_TOOLS_ENV = "CALFBOT_REQUIRE_DEPLOY_TOOLS"


def install_test_enabled() -> bool:
    return os.environ.get(INSTALL_ENV) == "1"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if install_test_enabled():
        return
    skip = pytest.mark.skip(reason=f"real installs from the registries take minutes: set {INSTALL_ENV}=1")
    for item in items:
        if item.get_closest_marker("slow_install"):
            item.add_marker(skip)


def require_tool(name: str) -> str:
    """The tool's path; without it skip, or fail when CI requires the deploy tools."""
    path = shutil.which(name)
    if path is None:
        message = f"{name} is not installed (apt-get install {name})"
        if os.environ.get(REQUIRE_TOOLS_ENV) == "1" or install_test_enabled():
            pytest.fail(f"{message}, and {REQUIRE_TOOLS_ENV}=1 requires it")
        pytest.skip(message)
    return path
