"""One running bot per data directory, and a way for admin commands to find it.

``calfbot run`` holds an exclusive ``flock`` on ``calfbot.pid`` in the data
directory for as long as it runs; the file holds its pid. The kernel drops
the lock when the process ends, however it ends, so a stale file never
blocks a start. ``calfbot restore`` refuses while the lock is held, and
``calfbot reload-content`` signals the pid it names.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import IO

PID_FILE = "calfbot.pid"


class AlreadyRunning(Exception):
    """Another bot holds the data directory."""


class InstanceLock:
    """The running bot's claim on its data directory."""

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / PID_FILE
        self._file: IO[str] | None = None

    def acquire(self) -> None:
        """Take the lock and write this pid; AlreadyRunning if another process has it."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = self.path.open("a+", encoding="ascii")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            pid = handle.read().strip() or "unknown"
            handle.close()
            raise AlreadyRunning(
                f"another calfbot (pid {pid}) is running with the data directory {self.path.parent}"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        self._file = handle

    def release(self) -> None:
        """Drop the lock (the process ending does the same)."""
        if self._file is not None:
            self._file.close()
            self._file = None


def running_pid(data_dir: Path) -> int | None:
    """The pid of the bot running with ``data_dir``, or None if none is."""
    path = data_dir / PID_FILE
    try:
        handle = path.open(encoding="ascii")
    except FileNotFoundError:
        return None
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            text = handle.read().strip()
            return int(text) if text.isdigit() else -1
        return None
