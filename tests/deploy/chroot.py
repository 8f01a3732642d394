"""A throwaway Debian 12 root for running ``deploy/install.sh`` for real.

The base is ``debootstrap --variant=minbase bookworm`` from Debian's mirror,
built once and cached as a tarball outside the repository
(``$CALFBOT_INSTALL_TEST_CACHE``, default ``/var/cache/calfbot-test``). Each
test run extracts a fresh copy into a temporary directory, mounts ``/proc``
and binds ``/dev`` into it, and :meth:`Chroot.close` unmounts them (lazily if
a normal unmount fails) and deletes the copy only once nothing under it is
mounted any more: it never deletes through a mount.

Only systemd is stubbed: a minbase root has no systemd and could not run one
in a chroot anyway, so ``tests/deploy/stubs/systemctl`` (and ``journalctl``)
go first in ``PATH`` and record every call.

Run as a script (``python -m tests.deploy.chroot``) it only builds the cache
(this base and the one with systemd that ``machine.py`` boots).
"""

from __future__ import annotations

import fcntl
import os
import pty
import select
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
STUBS = Path(__file__).resolve().parent / "stubs"
MIRROR = "http://deb.debian.org/debian"
SUITE = "bookworm"
CACHE_ENV = "CALFBOT_INSTALL_TEST_CACHE"
DEFAULT_CACHE = Path("/var/cache/calfbot-test")
# The systemd-booted variant (machine.py) adds these to minbase.
SYSTEMD_PACKAGES = ("systemd", "systemd-sysv", "dbus")
# Where the checkout goes inside the root, as an admin's `git clone` would.
SOURCE_IN_ROOT = "/root/calfbot"
# What the stubs record; paths inside the root.
SYSTEMCTL_LOG = "/var/log/systemctl-stub.log"
JOURNALCTL_LOG = "/var/log/journalctl-stub.log"
CHROOT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
# The CA bundle this machine's pip trusts, copied in for pip in the root (some
# CI machines reach PyPI through a proxy with its own CA; a fresh Debian root
# would not trust it). apt uses plain HTTP and needs nothing.
HOST_CA_IN_ROOT = "/usr/local/share/calfbot-test/host-ca-certificates.crt"


class ChrootError(RuntimeError):
    """The test root could not be built, entered or cleaned up."""


def cache_dir() -> Path:
    return Path(os.environ.get(CACHE_ENV) or DEFAULT_CACHE)


def base_tarball(*, include: tuple[str, ...] = (), log: Path | None = None) -> Path:
    """The cached minbase root (plus ``include``), built under a lock if it is not there yet."""
    directory = cache_dir()
    directory.mkdir(parents=True, exist_ok=True)
    tarball = directory / f"{SUITE}-minbase{'-' + '-'.join(include) if include else ''}.tar"
    with (directory / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if tarball.is_file():
            return tarball
        if shutil.which("debootstrap") is None:
            raise ChrootError("debootstrap is not installed (apt-get install debootstrap)")
        build = Path(tempfile.mkdtemp(prefix="build-", dir=directory))
        try:
            output = log.open("ab") if log else subprocess.DEVNULL
            try:
                result = subprocess.run(
                    [
                        "debootstrap",
                        "--variant=minbase",
                        *([f"--include={','.join(include)}"] if include else []),
                        SUITE,
                        str(build),
                        MIRROR,
                    ],
                    stdout=output,
                    stderr=subprocess.STDOUT,
                    check=False,
                    timeout=1800,
                )
            finally:
                if log and not isinstance(output, int):
                    output.close()
            if result.returncode != 0:
                raise ChrootError(f"debootstrap failed with exit code {result.returncode}")
            # Keep the image small: the package cache is not needed to run apt.
            for deb in (build / "var/cache/apt/archives").glob("*.deb"):
                deb.unlink()
            build.chmod(0o755)  # it becomes /
            partial = tarball.with_suffix(".tar.partial")
            subprocess.run(["tar", "-C", str(build), "--numeric-owner", "-cf", str(partial), "."], check=True)
            partial.rename(tarball)
        finally:
            assert_nothing_mounted_under(build)
            shutil.rmtree(build, ignore_errors=True)
    return tarball


def host_ca_bundle() -> Path:
    for candidate in (
        os.environ.get("PIP_CERT"),
        os.environ.get("SSL_CERT_FILE"),
        "/etc/ssl/certs/ca-certificates.crt",
    ):
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    raise ChrootError("found no CA bundle on this machine to let pip in the test root reach PyPI")


def _mounts_under(root: Path) -> list[str]:
    """Mount points at or under ``root``, deepest first (from /proc/self/mountinfo)."""
    prefix = str(root.resolve())
    points = []
    for line in Path("/proc/self/mountinfo").read_text(encoding="utf-8").splitlines():
        # The mount point is the fifth field; spaces in it are escaped as \040.
        point = line.split()[4].replace("\\040", " ")
        if point == prefix or point.startswith(prefix + "/"):
            points.append(point)
    return sorted(points, key=len, reverse=True)


def assert_nothing_mounted_under(root: Path) -> None:
    if root.exists() and (left := _mounts_under(root)):
        raise ChrootError(f"refusing to delete {root}: still mounted: {', '.join(left)}")


def copy_checkout(destination: Path) -> None:
    """The repository's files as an admin's clone would have them: tracked and new, not ignored."""
    listing = subprocess.run(
        ["git", "-C", str(REPO), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listing.split("\0")):
        source = REPO / name
        if not source.is_file() or name.startswith("tests/e2e/node_modules/"):
            continue  # deleted in the work tree, or a stray install
        target = destination / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)


class Chroot:
    """A fresh copy of the base root, with /proc and /dev mounted while open."""

    def __init__(self, tarball: Path) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="calfbot-root-"))
        self._mounted: list[Path] = []
        try:
            subprocess.run(
                ["tar", "-C", str(self.root), "--numeric-owner", "-xpf", str(tarball)],
                check=True,
            )
            self.root.chmod(0o755)  # it is /, made by mkdtemp as 0700: everyone must get through it
            self._prepare()
        except BaseException:
            self.close()
            raise

    def _prepare(self) -> None:
        shutil.copy2("/etc/resolv.conf", self.path("/etc/resolv.conf"), follow_symlinks=True)
        self.path(HOST_CA_IN_ROOT).parent.mkdir(parents=True)
        shutil.copy2(host_ca_bundle(), self.path(HOST_CA_IN_ROOT))
        # Usual chroot hygiene: packages must not try to start daemons.
        policy = self.path("/usr/sbin/policy-rc.d")
        policy.write_text("#!/bin/sh\nexit 101\n", encoding="utf-8")
        policy.chmod(0o755)
        for stub in STUBS.iterdir():
            shutil.copy2(stub, self.path(f"/usr/local/sbin/{stub.name}"))
        copy_checkout(self.path(SOURCE_IN_ROOT))
        self._mount(["-t", "proc", "proc"], "/proc")
        self._mount(["--bind", "/dev"], "/dev")

    def _mount(self, how: Sequence[str], inside: str) -> None:
        point = self.path(inside)
        point.mkdir(parents=True, exist_ok=True)
        subprocess.run(["mount", *how, str(point)], check=True)
        self._mounted.append(point)

    def path(self, inside: str) -> Path:
        """The host path of ``inside`` (an absolute path within the root)."""
        return self.root / inside.lstrip("/")

    def run(
        self,
        command: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        timeout: float = 900,
    ) -> subprocess.CompletedProcess[str]:
        """Run ``command`` inside the root as root, with a clean environment and no terminal."""
        environment = {
            "PATH": CHROOT_PATH,
            "HOME": "/root",
            "LANG": "C.UTF-8",
            "TERM": "dumb",
            "PIP_CERT": HOST_CA_IN_ROOT,
            **(env or {}),
        }
        variables = [f"{key}={value}" for key, value in environment.items()]
        return subprocess.run(
            ["chroot", str(self.root), "/usr/bin/env", "-i", *variables, *command],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def run_in_terminal(
        self,
        command: Sequence[str],
        *,
        prompt: str,
        answer: str,
        env: Mapping[str, str] | None = None,
        timeout: float = 900,
    ) -> tuple[int, str]:
        """Run ``command`` with a terminal (a pty) as its input and output, type ``answer`` once
        ``prompt`` shows, and return the exit status and everything the terminal showed."""
        environment = {"PATH": CHROOT_PATH, "HOME": "/root", "LANG": "C.UTF-8", "TERM": "dumb"}
        environment |= {"PIP_CERT": HOST_CA_IN_ROOT, **(env or {})}
        variables = [f"{key}={value}" for key, value in environment.items()]
        terminal, other_end = pty.openpty()
        process = subprocess.Popen(
            ["chroot", str(self.root), "/usr/bin/env", "-i", *variables, *command],
            stdin=other_end,
            stdout=other_end,
            stderr=other_end,
            start_new_session=True,
        )
        os.close(other_end)
        shown = bytearray()
        answered = False
        deadline = time.monotonic() + timeout
        try:
            while True:
                if time.monotonic() > deadline:
                    process.kill()
                    raise ChrootError(f"{command} did not finish in {timeout:.0f} s")
                ready, _, _ = select.select([terminal], [], [], 1.0)
                if not ready:
                    continue
                try:
                    chunk = os.read(terminal, 4096)
                except OSError:  # EIO: every process holding the other end has gone
                    chunk = b""
                if not chunk:
                    break
                shown += chunk
                if not answered and prompt.encode() in shown:
                    os.write(terminal, answer.encode() + b"\n")
                    answered = True
        finally:
            os.close(terminal)
        return process.wait(timeout=60), shown.decode(errors="replace")

    def close(self) -> None:
        """Unmount everything (lazily as a last resort), then delete the copy if nothing is mounted."""
        for point in reversed(self._mounted):
            if subprocess.run(["umount", str(point)], check=False, capture_output=True).returncode != 0:
                time.sleep(0.5)  # a process that just exited may still hold it
                if subprocess.run(["umount", str(point)], check=False, capture_output=True).returncode != 0:
                    subprocess.run(["umount", "--lazy", str(point)], check=False, capture_output=True)
        self._mounted.clear()
        assert_nothing_mounted_under(self.root)
        shutil.rmtree(self.root, ignore_errors=True)


@contextmanager
def debian_root() -> Iterator[Chroot]:
    """A fresh Debian 12 root for one test module, always cleaned up."""
    chroot = Chroot(base_tarball())
    try:
        yield chroot
    finally:
        chroot.close()


if __name__ == "__main__":
    for extra in ((), SYSTEMD_PACKAGES):
        started = time.monotonic()
        print(base_tarball(include=extra, log=Path("/dev/stderr")), f"({time.monotonic() - started:.0f} s)")
