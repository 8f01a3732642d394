"""A rehearsal of the Dockerfile's build, without a container engine.

The build context is what .dockerignore lets through; the builder stage's
COPY lines take their files from it, and its ``pip wheel`` turns them into
wheels (from PyPI, so this is slow and runs with the install test); the
runtime stage's offline ``pip install --no-index`` of those wheels goes into a
fresh venv, and the bot has to work from there. A file the build needs but the
context or a COPY leaves out, or a dependency without a wheel, fails here as
it would in ``docker build``. (Python here is 3.11 on Debian 12, as in
python:3.11-slim-bookworm.)
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.deploy.dockerfile import DockerIgnore, Stage, stages

pytestmark = pytest.mark.slow_install

REPO = Path(__file__).resolve().parents[2]


def build_context(destination: Path) -> None:
    """The files `docker build .` would send: the checkout less what .dockerignore keeps out."""
    ignore = DockerIgnore()
    listing = subprocess.run(
        ["git", "-C", str(REPO), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listing.split("\0")):
        if (REPO / name).is_file() and not ignore.excluded(name):
            (destination / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, destination / name)


def apply_copies(stage: Stage, context: Path, root: Path) -> Path:
    """Carry out the stage's WORKDIR and COPY lines into ``root``; the final working directory."""
    workdir = root
    for instruction in stage.instructions:
        if instruction.name == "WORKDIR":
            workdir = root / instruction.value.lstrip("/")
            workdir.mkdir(parents=True, exist_ok=True)
        elif instruction.name == "COPY":
            *sources, target = (w for w in shlex.split(instruction.value) if not w.startswith("--"))
            destination = workdir / target if not target.startswith("/") else root / target.lstrip("/")
            for source in sources:
                origin = context / source
                if origin.is_dir():
                    shutil.copytree(origin, destination, dirs_exist_ok=True)
                else:
                    destination.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(origin, destination / origin.name)
    return workdir


def test_dockerfile_build_rehearsal(tmp_path: Path) -> None:
    builder, runtime = stages()[0], stages()[-1]
    context, root, wheels, venv = (tmp_path / part for part in ("context", "root", "wheels", "venv"))
    context.mkdir()
    build_context(context)
    source = apply_copies(builder, context, root)

    # The builder: `pip wheel --wheel-dir /wheels .` in its WORKDIR.
    assert any(run.value == "pip wheel --wheel-dir /wheels ." for run in builder.all("RUN"))
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--wheel-dir", str(wheels), "."],
        cwd=source,
        check=True,
        timeout=900,
    )
    assert list(wheels.glob("calfbot-*.whl"))

    # The runtime: a venv and an offline install of only those wheels (no pip configuration of this machine).
    install = " ".join(run.value for run in runtime.all("RUN"))
    assert "pip install --no-index --find-links=/wheels calfbot" in install
    offline = {key: value for key, value in os.environ.items() if not key.startswith("PIP_")}
    offline["PIP_CONFIG_FILE"] = os.devnull
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run(
        [str(venv / "bin/pip"), "install", "--quiet", "--no-index", f"--find-links={wheels}", "calfbot"],
        check=True,
        env=offline,
        timeout=600,
    )
    checked = subprocess.run(
        [str(venv / "bin/calfbot"), "check-content"], capture_output=True, text=True, check=True, cwd=tmp_path
    )
    assert checked.stdout.startswith("content OK:")
    zone = "from zoneinfo import ZoneInfo; print(ZoneInfo('Europe/Berlin').key)"
    berlin = subprocess.run([str(venv / "bin/python"), "-c", zone], capture_output=True, text=True, check=True)
    assert berlin.stdout.strip() == "Europe/Berlin"
