"""Every shell script in the repository passes shellcheck.

Scripts are found by their first line (a ``#!`` naming sh, bash or dash),
among the files git tracks or would track, so a new script cannot be missed.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from tests.deploy.conftest import require_tool

REPO = Path(__file__).resolve().parents[2]
SHEBANG = re.compile(rb"^#!\s*(?:/usr)?/bin/(?:env\s+)?(?:sh|bash|dash)\b")
# Those the deploy and CI depend on; the search must find at least these.
EXPECTED = {
    ".ci/run",
    ".ci/setup",
    "deploy/install.sh",
    "deploy/calfbot-admin.sh",
    "tests/deploy/stubs/systemctl",
    "tests/deploy/stubs/journalctl",
}


def shell_scripts() -> list[str]:
    listing = subprocess.run(
        ["git", "-C", str(REPO), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        capture_output=True,
        check=True,
    ).stdout.decode()
    scripts = []
    for name in filter(None, listing.split("\0")):
        path = REPO / name
        if "node_modules/" in name or not path.is_file():
            continue
        with path.open("rb") as file:
            first = file.readline(200)
        if SHEBANG.match(first) or name.endswith(".sh"):
            scripts.append(name)
    return sorted(scripts)


def test_finds_the_scripts() -> None:
    assert set(shell_scripts()) >= EXPECTED


def test_shellcheck_passes_on_every_script() -> None:
    shellcheck = require_tool("shellcheck")
    scripts = shell_scripts()
    result = subprocess.run(
        [shellcheck, "--external-sources", *scripts],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_scripts_are_executable_and_strict() -> None:
    """Run directly (``deploy/install.sh``), and stop at the first failed command."""
    for name in shell_scripts():
        path = REPO / name
        assert path.stat().st_mode & 0o111, f"{name} is not executable"
        text = path.read_text(encoding="utf-8")
        if "bash" in text.splitlines()[0]:
            assert "set -euo pipefail" in text, f"{name} lacks set -euo pipefail"
