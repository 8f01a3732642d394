"""A Debian 12 root booted with ``systemd-nspawn --boot``: real systemd, no stubs.

The root is the cached minbase tarball with systemd in it (``chroot.py``),
extracted fresh. ``systemd-nspawn`` runs its systemd as PID 1 of new mount,
PID, IPC and UTS namespaces, sharing the host's network namespace, so a
server the test starts on 127.0.0.1 is the machine's 127.0.0.1 too. Commands
run inside with ``nsenter`` (there is no systemd-machined on the host to
register with, hence ``--register=no --keep-unit``). :meth:`Machine.close`
powers it off (SIGTERM to nspawn; SIGKILL if it hangs), then deletes the copy
only if nothing under it is still mounted.
"""

from __future__ import annotations

import secrets
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path

from tests.deploy.chroot import (
    CHROOT_PATH,
    HOST_CA_IN_ROOT,
    SOURCE_IN_ROOT,
    SYSTEMD_PACKAGES,
    ChrootError,
    assert_nothing_mounted_under,
    base_tarball,
    copy_checkout,
    host_ca_bundle,
)

BOOT_TIMEOUT = 90.0
POWEROFF_TIMEOUT = 60.0


class Machine:
    """A booted copy of the systemd base root."""

    def __init__(self, tarball: Path) -> None:
        self.name = f"calfbot-test-{secrets.token_hex(4)}"
        self.root = Path(tempfile.mkdtemp(prefix=f"{self.name}-"))
        self.console = self.root.with_name(self.root.name + ".console")
        self._process: subprocess.Popen[bytes] | None = None
        try:
            subprocess.run(["tar", "-C", str(self.root), "--numeric-owner", "-xpf", str(tarball)], check=True)
            self.root.chmod(0o755)
            self._prepare()
            self._boot()
        except BaseException:
            self.close()
            raise

    def _prepare(self) -> None:
        shutil.copy2("/etc/resolv.conf", self.path("/etc/resolv.conf"), follow_symlinks=True)
        self.path(HOST_CA_IN_ROOT).parent.mkdir(parents=True)
        shutil.copy2(host_ca_bundle(), self.path(HOST_CA_IN_ROOT))
        self.path("/etc/hostname").write_text("calfbot-test\n", encoding="utf-8")
        copy_checkout(self.path(SOURCE_IN_ROOT))

    def _boot(self) -> None:
        with self.console.open("wb") as console:
            self._process = subprocess.Popen(
                [
                    "systemd-nspawn",
                    "--quiet",
                    f"--directory={self.root}",
                    f"--machine={self.name}",
                    "--boot",
                    "--register=no",
                    "--keep-unit",
                    "--console=read-only",
                ],
                stdin=subprocess.DEVNULL,
                stdout=console,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + BOOT_TIMEOUT
        state = ""
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise ChrootError(f"systemd-nspawn exited {self._process.returncode}: {self.console_tail()}")
            if self._leader() is not None:
                state = self.run(["systemctl", "is-system-running"], timeout=30).stdout.strip()
                if state in ("running", "degraded"):
                    return
            time.sleep(0.5)
        raise ChrootError(f"the machine did not boot in {BOOT_TIMEOUT:.0f} s (state {state!r}): {self.console_tail()}")

    def console_tail(self) -> str:
        lines = self.console.read_text(encoding="utf-8", errors="replace").splitlines() if self.console.exists() else []
        return "\n".join(lines[-20:])

    def _leader(self) -> int | None:
        """The machine's PID 1, as the host sees it: nspawn's child."""
        if self._process is None:
            return None
        for task in Path(f"/proc/{self._process.pid}/task").glob("*/children"):
            with suppress(OSError):
                children = task.read_text(encoding="ascii").split()
                if children:
                    return int(children[0])
        return None

    def path(self, inside: str) -> Path:
        """The host path of ``inside`` (not for /proc, /sys, /dev, /run: those are the machine's own mounts)."""
        return self.root / inside.lstrip("/")

    def run(
        self,
        command: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        timeout: float = 900,
    ) -> subprocess.CompletedProcess[str]:
        """Run ``command`` in the machine as root, with a clean environment and no terminal."""
        leader = self._leader()
        if leader is None:
            raise ChrootError("the machine is not running")
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
            ["nsenter", f"--target={leader}", "--all", "--", "/usr/bin/env", "-i", *variables, *command],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def close(self) -> None:
        """Power off (SIGTERM to nspawn, which asks systemd to shut down), then delete the copy."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(POWEROFF_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()  # nspawn's kill takes the whole machine with it
                process.wait(30)
        assert_nothing_mounted_under(self.root)
        shutil.rmtree(self.root, ignore_errors=True)
        self.console.unlink(missing_ok=True)
        # nspawn leaves an empty directory behind when /run is not a tmpfs.
        with suppress(OSError):
            Path(f"/run/systemd/nspawn/propagate/{self.name}").rmdir()


@contextmanager
def booted_machine() -> Iterator[Machine]:
    """A freshly booted Debian 12 with systemd, always powered off and removed afterwards."""
    machine = Machine(base_tarball(include=SYSTEMD_PACKAGES))
    try:
        yield machine
    finally:
        machine.close()
