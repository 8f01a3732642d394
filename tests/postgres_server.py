"""A real, throwaway PostgreSQL server for the tests (a pytest plugin).

Register it with ``pytest_plugins = ["tests.postgres_server"]`` in
``tests/conftest.py``. It provides two fixtures:

``postgres_server`` (session)
    Creates a cluster in a temporary directory (``initdb -A trust -U calfbot
    --no-sync -E UTF8 --locale=C``), starts it with ``pg_ctl start -w`` on a free
    127.0.0.1 port with its Unix socket inside that directory and durability
    switched off (``fsync``, ``synchronous_commit``, ``full_page_writes``), and
    yields a :class:`PostgresServer`. At the end of the session the cluster's
    own ``pg_ctl stop -m fast`` stops it and the directory is removed, whether
    the tests passed or not.

``postgres_url`` (function)
    A fresh, empty database for one test, as a SQLAlchemy ``postgresql+asyncpg``
    URL; dropped after the test.

The server binaries are looked up in ``$PG_BINDIR``, else ``pg_config
--bindir``, else the newest ``/usr/lib/postgresql/*/bin`` (``.ci/run`` uses
the same lookup). Without them the tests that need PostgreSQL are skipped,
unless ``CALFBOT_REQUIRE_POSTGRES=1`` (set by CI), which makes that a failure.

PostgreSQL refuses to run as root, so when the tests run as root the cluster
is owned by, and its programs run as, the ``postgres`` system user (through
``runuser``, or ``setpriv`` where there is no ``runuser``). Clients such as
``psql`` and the tests themselves connect over TCP as the ``calfbot`` role.
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest

__all__ = [
    "PostgresServer",
    "PostgresSetupError",
    "find_bindir",
    "is_running",
    "postgres_server",
    "postgres_url",
    "running_postgres",
]

SUPERUSER = "calfbot"
HOST = "127.0.0.1"
REQUIRE_ENV = "CALFBOT_REQUIRE_POSTGRES"
BINDIR_ENV = "PG_BINDIR"
UNPRIVILEGED_USER = "postgres"
SERVER_PROGRAMS = ("initdb", "pg_ctl", "postgres", "psql")

_COMMAND_TIMEOUT = 120.0  # seconds for any one initdb / pg_ctl / psql run
_START_ATTEMPTS = 5  # a free port can be taken between choosing and binding it
_LOG_TAIL_LINES = 30
_DATABASE_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")


class PostgresSetupError(RuntimeError):
    """The throwaway server could not be created, started or stopped."""


@dataclass(frozen=True)
class PostgresServer:
    """A running throwaway cluster; connect as :attr:`user` without a password."""

    host: str
    port: int
    user: str
    pid: int
    """The postmaster's process id (from ``postmaster.pid``)."""
    bindir: Path
    base_dir: Path
    """The temporary directory holding ``data/``, ``socket/`` and ``postgres.log``."""

    @property
    def data_dir(self) -> Path:
        return self.base_dir / "data"

    @property
    def socket_dir(self) -> Path:
        return self.base_dir / "socket"

    @property
    def log_file(self) -> Path:
        return self.base_dir / "postgres.log"

    def url(self, database: str, driver: str = "asyncpg") -> str:
        """A SQLAlchemy URL, e.g. ``postgresql+asyncpg://calfbot@127.0.0.1:PORT/DB``.

        ``driver=""`` gives a plain ``postgresql://`` URL (libpq, asyncpg.connect).
        """
        scheme = f"postgresql+{driver}" if driver else "postgresql"
        return f"{scheme}://{quote(self.user, safe='')}@{self.host}:{self.port}/{quote(database, safe='')}"

    def psql(self, sql: str, database: str = "postgres") -> str:
        """Run ``sql`` with this cluster's ``psql`` and return its unaligned, tuples-only output."""
        command = [
            str(self.bindir / "psql"),
            "--no-psqlrc",
            "--quiet",
            "--tuples-only",
            "--no-align",
            "--set=ON_ERROR_STOP=1",
            f"--host={self.host}",
            f"--port={self.port}",
            f"--username={self.user}",
            f"--dbname={database}",
            f"--command={sql}",
        ]
        result = _run(command, cwd=self.base_dir)
        if result.returncode != 0:
            raise PostgresSetupError(f"psql failed ({result.returncode}) running {sql!r}:\n{result.stderr.strip()}")
        return result.stdout.strip()

    def create_database(self, name: str | None = None) -> str:
        """Create a fresh, empty database (from ``template0``) and return its name.

        Without ``name`` the name is unique (``test_<random hex>``). A given name must be a
        plain lower-case identifier so it never needs quoting.
        """
        name = name if name is not None else f"test_{uuid.uuid4().hex[:16]}"
        _check_database_name(name)
        self.psql(f"CREATE DATABASE {name} TEMPLATE template0")
        return name

    def drop_database(self, name: str) -> None:
        """Drop ``name`` if it exists, disconnecting any sessions still using it."""
        _check_database_name(name)
        self.psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


# --- finding the binaries ---------------------------------------------------------------------------


def _has_server_programs(bindir: Path) -> bool:
    return all(os.access(bindir / program, os.X_OK) for program in SERVER_PROGRAMS)


def _version_key(path: Path) -> tuple[int, ...]:
    """``/usr/lib/postgresql/15/bin`` -> ``(15,)``; non-numeric versions sort first."""
    parts = path.parent.name.split(".")
    return tuple(int(part) for part in parts) if all(part.isdigit() for part in parts) else (-1,)


def find_bindir() -> Path | None:
    """Where the PostgreSQL server programs are, or ``None``.

    Looks in ``$PG_BINDIR`` (which must then hold them: a wrong setting raises
    :class:`PostgresSetupError` instead of quietly using another install), else
    ``pg_config --bindir``, else the newest ``/usr/lib/postgresql/*/bin``.
    """
    configured = os.environ.get(BINDIR_ENV)
    if configured:
        bindir = Path(configured)
        if not _has_server_programs(bindir):
            raise PostgresSetupError(
                f"{BINDIR_ENV}={configured} does not hold the PostgreSQL programs {', '.join(SERVER_PROGRAMS)}"
            )
        return bindir

    pg_config = shutil.which("pg_config")
    if pg_config is not None:
        with suppress(OSError, subprocess.SubprocessError):
            result = subprocess.run(
                [pg_config, "--bindir"], capture_output=True, text=True, timeout=_COMMAND_TIMEOUT, check=False
            )
            candidate = Path(result.stdout.strip())
            if result.returncode == 0 and result.stdout.strip() and _has_server_programs(candidate):
                return candidate

    installed = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=_version_key, reverse=True)
    return next((bindir for bindir in installed if _has_server_programs(bindir)), None)


# --- running programs -------------------------------------------------------------------------------


def _environment() -> dict[str, str]:
    """The current environment without libpq's ``PG*`` settings, which could point elsewhere."""
    return {key: value for key, value in os.environ.items() if not key.startswith("PG")}


def _run(command: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(
            command,
            cwd=cwd,
            env=_environment(),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=_COMMAND_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired as error:
        raise PostgresSetupError(f"{command[0]} did not finish within {_COMMAND_TIMEOUT:.0f} s") from error


def _unprivileged_user() -> pwd.struct_passwd | None:
    """The account to run the server as: ``None`` for the current user, unless that is root."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(UNPRIVILEGED_USER)
    except KeyError:
        raise PostgresSetupError(
            f"the tests run as root, PostgreSQL refuses to run as root, and there is no "
            f"'{UNPRIVILEGED_USER}' system user to run it as. Install PostgreSQL from the "
            f"distribution's packages (it creates that user) or run the tests as a normal user."
        ) from None


def _as_user(account: pwd.struct_passwd | None) -> list[str]:
    """The command prefix that runs a program as ``account`` (nothing for the current user)."""
    if account is None:
        return []
    runuser = shutil.which("runuser")
    if runuser is not None:
        return [runuser, "-u", account.pw_name, "--"]
    setpriv = shutil.which("setpriv")
    if setpriv is not None:
        return [setpriv, f"--reuid={account.pw_uid}", f"--regid={account.pw_gid}", "--init-groups", "--"]
    raise PostgresSetupError(
        f"the tests run as root and need runuser or setpriv (util-linux) to run PostgreSQL as '{account.pw_name}'"
    )


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


def _log_tail(log_file: Path) -> str:
    try:
        lines = log_file.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return "(no server log)"
    return "\n".join(lines[-_LOG_TAIL_LINES:]) or "(server log is empty)"


def _read_pid(data_dir: Path) -> int | None:
    try:
        first_line = (data_dir / "postmaster.pid").read_text(encoding="utf-8").split("\n", 1)[0]
    except OSError:
        return None
    return int(first_line) if first_line.strip().isdigit() else None


def is_running(pid: int) -> bool:
    """Whether ``pid`` is a live process; an exited one still waiting to be reaped (a zombie) is not."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8")
    except FileNotFoundError:
        return False
    except OSError:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    # Fields after the parenthesised command name: "state ppid ...".
    return stat.rpartition(")")[2].split()[0] not in {"Z", "X"}


def _quote_setting(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


# --- the cluster -----------------------------------------------------------------------------------


@contextmanager
def running_postgres(bindir: Path) -> Iterator[PostgresServer]:
    """Create, start, and on exit stop and delete a throwaway cluster.

    Raises :class:`PostgresSetupError` when any step fails. Stopping uses the
    cluster's own ``pg_ctl stop -m fast`` (falling back to ``-m immediate``);
    the temporary directory is removed even if that fails.
    """
    account = _unprivileged_user()
    prefix = _as_user(account)
    base_dir = Path(tempfile.mkdtemp(prefix="calfbot-pg-"))
    data_dir = base_dir / "data"
    socket_dir = base_dir / "socket"
    log_file = base_dir / "postgres.log"
    pg_ctl = [*prefix, str(bindir / "pg_ctl"), f"--pgdata={data_dir}"]
    try:
        socket_dir.mkdir()
        if account is not None:
            for path in (base_dir, socket_dir):
                os.chown(path, account.pw_uid, account.pw_gid)

        _init_cluster(prefix, bindir, base_dir, account)
        with (data_dir / "postgresql.conf").open("a", encoding="utf-8") as conf:
            conf.write(
                "\n# calfbot tests: a throwaway cluster, reachable only from this machine, built for speed.\n"
                f"listen_addresses = {_quote_setting(HOST)}\n"
                f"unix_socket_directories = {_quote_setting(str(socket_dir))}\n"
                "fsync = off\n"
                "synchronous_commit = off\n"
                "full_page_writes = off\n"
                "max_connections = 200\n"
                "logging_collector = off\n"
            )

        port = _start(pg_ctl, base_dir, log_file)
        pid = _read_pid(data_dir)
        if pid is None:
            raise PostgresSetupError(f"the server started but wrote no postmaster.pid:\n{_log_tail(log_file)}")
        yield PostgresServer(host=HOST, port=port, user=SUPERUSER, pid=pid, bindir=bindir, base_dir=base_dir)
    finally:
        try:
            _stop(pg_ctl, base_dir, log_file)
        finally:
            shutil.rmtree(base_dir, ignore_errors=True)


def _init_cluster(prefix: list[str], bindir: Path, base_dir: Path, account: pwd.struct_passwd | None) -> None:
    command = [
        *prefix,
        str(bindir / "initdb"),
        f"--pgdata={base_dir / 'data'}",
        "--auth=trust",
        f"--username={SUPERUSER}",
        "--no-sync",
        "--encoding=UTF8",
        "--locale=C",
    ]
    result = _run(command, cwd=base_dir)
    if result.returncode != 0:
        hint = (
            f"\n(initdb ran as '{account.pw_name}', which needs to reach {base_dir}: check its parent directories)"
            if account is not None
            else ""
        )
        raise PostgresSetupError(f"initdb failed ({result.returncode}):\n{result.stderr.strip()}{hint}")


def _start(pg_ctl: list[str], base_dir: Path, log_file: Path) -> int:
    """Start the server on a free port and return the port; retries if another process took it first."""
    failure = ""
    for _attempt in range(_START_ATTEMPTS):
        port = _free_port()
        command = [
            *pg_ctl,
            f"--log={log_file}",
            "--wait",
            f"--timeout={_COMMAND_TIMEOUT:.0f}",
            f"--options=-p {port}",
            "start",
        ]
        result = _run(command, cwd=base_dir)
        if result.returncode == 0:
            return port
        log = _log_tail(log_file)
        failure = f"pg_ctl start failed ({result.returncode}):\n{result.stderr.strip()}\n--- {log_file}:\n{log}"
        _stop(pg_ctl, base_dir, log_file)  # in case it came up after pg_ctl gave up waiting
        if "could not bind" not in log and "could not create any TCP/IP sockets" not in log:
            break
    raise PostgresSetupError(failure)


def _stop(pg_ctl: list[str], base_dir: Path, log_file: Path) -> None:
    """Stop the cluster if it is running: ``-m fast``, then ``-m immediate`` if that did not work."""
    data_dir = base_dir / "data"
    pid = _read_pid(data_dir)
    if pid is None:
        return
    result = _run([*pg_ctl, "--mode=fast", "--wait", f"--timeout={_COMMAND_TIMEOUT:.0f}", "stop"], cwd=base_dir)
    if result.returncode != 0 and is_running(pid):
        result = _run([*pg_ctl, "--mode=immediate", "--wait", "stop"], cwd=base_dir)
    deadline = time.monotonic() + 10.0
    while is_running(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    if is_running(pid):
        raise PostgresSetupError(
            f"the test PostgreSQL server (pid {pid}) did not stop: {result.stderr.strip()}\n{_log_tail(log_file)}"
        )


def _check_database_name(name: str) -> None:
    if not _DATABASE_NAME.fullmatch(name):
        raise ValueError(f"database name {name!r} must match {_DATABASE_NAME.pattern}")


def _required() -> bool:
    return os.environ.get(REQUIRE_ENV, "").strip().lower() in {"1", "true", "yes"}


# --- fixtures --------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A throwaway PostgreSQL cluster for the whole session, stopped and deleted at its end."""
    try:
        bindir = find_bindir()
    except PostgresSetupError as error:
        pytest.fail(str(error), pytrace=False)
    if bindir is None:
        reason = (
            f"PostgreSQL server programs not found (looked in ${BINDIR_ENV}, `pg_config --bindir` and "
            f"/usr/lib/postgresql/*/bin); install PostgreSQL (Debian: apt-get install postgresql) "
            f"or set {BINDIR_ENV}"
        )
        if _required():
            pytest.fail(f"{reason}; {REQUIRE_ENV}=1 makes this an error", pytrace=False)
        pytest.skip(f"{reason}; set {REQUIRE_ENV}=1 to make this an error")
    try:
        with running_postgres(bindir) as server:
            yield server
    except PostgresSetupError as error:
        pytest.fail(f"test PostgreSQL server: {error}", pytrace=False)


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> Iterator[str]:
    """A fresh, empty database for one test, as a ``postgresql+asyncpg://`` URL; dropped afterwards."""
    name = postgres_server.create_database()
    try:
        yield postgres_server.url(name)
    finally:
        postgres_server.drop_database(name)
