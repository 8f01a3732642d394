"""Admin commands for the terminal: backup, restore, reload-content, healthcheck.

Each returns an exit status and prints one clear line per outcome; none
needs the bot token.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

from bot import backup as backups
from bot.config import ConfigError, content_dir, data_dir, database_url, http_config, read_settings
from bot.content import ContentError, load_catalog
from bot.content.location import default_content_dir
from bot.instance import running_pid


def _fail(message: str, code: int = 1) -> int:
    print(f"calfbot: {message}", file=sys.stderr)
    return code


def backup(target: Path | None, keep: int | None) -> int:
    """``calfbot backup [PATH] [--keep N]``."""
    try:
        path, removed = backups.backup(database_url(read_settings()), target, now=datetime.now(UTC), keep=keep)
    except backups.BackupError as exc:
        return _fail(str(exc))
    size = path.stat().st_size
    pruned = f"; removed {len(removed)} older" if removed else ""
    print(f"backup written and verified: {path} ({size / 1e6:.1f} MB){pruned}")
    return 0


def restore(source: Path) -> int:
    """``calfbot restore PATH``."""
    settings = read_settings()
    try:
        kept = backups.restore(database_url(settings), source, data_dir=data_dir(settings), now=datetime.now(UTC))
    except backups.BackupError as exc:
        return _fail(str(exc))
    aside = f"; the previous database is kept at {kept}" if kept else ""
    print(f"restored {source}{aside}. Start the bot again; it migrates the schema if the backup is older.")
    return 0


def reload_content() -> int:
    """``calfbot reload-content``: validate, then ask the running bot to reload (SIGHUP)."""
    settings = read_settings()
    directory = content_dir(settings) or default_content_dir()
    try:
        catalog = load_catalog(directory)
    except ContentError as exc:
        return _fail(f"content is broken; the running bot keeps its current content.\n{exc}")
    pid = running_pid(data_dir(settings))
    summary = f"content OK: {len(catalog.exercises)} exercises in {directory}"
    if pid is None or pid <= 0:
        print(f"{summary}; no running bot found for {data_dir(settings)} (it loads the content when it starts)")
        return 0
    try:
        os.kill(pid, signal.SIGHUP)
    except ProcessLookupError:
        print(f"{summary}; the bot (pid {pid}) just stopped (it loads the content when it starts)")
        return 0
    except PermissionError:
        return _fail(f"{summary}, but no permission to signal the bot (pid {pid}): run as root or the bot's user")
    print(f"{summary}; asked the running bot (pid {pid}) to reload it. Its log confirms.")
    return 0


def healthcheck() -> int:
    """``calfbot healthcheck``: exit 0 iff the bot's /healthz answers 200 (for Docker's HEALTHCHECK)."""
    try:
        http = http_config(read_settings())
    except ConfigError as exc:
        return _fail(str(exc), 2)
    if http is None:
        return _fail("the health endpoint is off: set CALFBOT_HTTP_PORT", 2)
    host = "127.0.0.1" if http.host in ("0.0.0.0", "") else ("::1" if http.host == "::" else http.host)  # noqa: S104
    url = f"http://{host if ':' not in host else f'[{host}]'}:{http.port}/healthz"
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            body = response.read().decode()
    except urllib.error.HTTPError as exc:
        detail = exc.read().decode(errors="replace")
        problems = json.loads(detail).get("problems", []) if detail.startswith("{") else []
        return _fail(f"unhealthy ({exc.code}): {'; '.join(problems) or detail.strip()}")
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        return _fail(f"no answer from {url}: {getattr(exc, 'reason', exc)}")
    print(f"healthy: {json.loads(body).get('status', 'ok')}")
    return 0
