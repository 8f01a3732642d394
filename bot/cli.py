"""The ``calfbot`` command: one subcommand per admin or author task."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from bot import admin_cli
from bot.content import ContentError, load_catalog
from bot.content.location import default_content_dir
from bot.domain import Catalog, DayKind, Enrollment
from bot.plaintext import reply_to_text
from bot.planner import plan_day
from bot.render import render_day
from bot.reports import deliveries, stats
from bot.run import db_upgrade, run

MAX_PREVIEW_DAYS = 366


def _iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2026-11-21") from None


def _day_count(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= MAX_PREVIEW_DAYS:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number from 1 to {MAX_PREVIEW_DAYS}")
    return int(text)


def _keep_count(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of backups, 1 or more")
    return int(text)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="calfbot", description="A Telegram bot that coaches a daily calf workout.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    check = commands.add_parser("check-content", help="validate the exercise content and the program")
    check.add_argument("directory", nargs="?", type=Path, help="content directory (default: the bundled content)")

    preview = commands.add_parser("preview", help="print the coming days' messages as a subscriber gets them")
    preview.add_argument("--days", type=_day_count, default=7, help="how many days (default 7)")
    preview.add_argument("--start", type=_iso_date, help="the subscriber's first day, YYYY-MM-DD (default today)")
    preview.add_argument("--content", type=Path, help="content directory (default: the bundled content)")
    preview.add_argument("--seed", default="preview", help="subscriber seed for the tip order (default 'preview')")

    commands.add_parser("run", help="run the bot (polling, or a webhook when WEBHOOK_URL is set)")
    report = commands.add_parser("deliveries", help="count a day's scheduled messages by state")
    report.add_argument("--date", type=_iso_date, help="local date, YYYY-MM-DD (default today, UTC)")
    commands.add_parser("stats", help="subscribers, today's deliveries, sessions and the last tick")
    backup = commands.add_parser("backup", help="a verified online copy of the SQLite database")
    backup.add_argument("path", nargs="?", type=Path, help="file or directory (default: DATA_DIR/backups/)")
    backup.add_argument("--keep", type=_keep_count, help="keep only the newest N backups in that directory")
    restore = commands.add_parser("restore", help="replace the SQLite database with a backup (bot stopped)")
    restore.add_argument("path", type=Path, help="the backup file")
    commands.add_parser("reload-content", help="validate the content and make the running bot reload it")
    commands.add_parser("healthcheck", help="exit 0 if the running bot's /healthz is healthy")
    db = commands.add_parser("db", help="database maintenance")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="DB_COMMAND")
    db_commands.add_parser("upgrade", help="apply database migrations (calfbot run also does this)")
    return parser


def _load(directory: Path | None) -> Catalog | None:
    try:
        return load_catalog(directory or default_content_dir())
    except ContentError as exc:
        print(exc, file=sys.stderr)
        return None


def check_content(directory: Path | None) -> int:
    """Validate content; print a one-line summary or every problem."""
    catalog = _load(directory)
    if catalog is None:
        return 1
    program = catalog.program
    faq_count = sum(len(e.faq) for e in catalog.exercises)
    tip_count = sum(len(e.tips) for e in catalog.exercises)
    print(
        f"content OK: {len(catalog.exercises)} exercises, {tip_count} tips, {faq_count} FAQ answers; "
        f"program {program.name!r}: {program.week.count(DayKind.TRAIN)} training days a week, "
        f"{len(program.stages)} stages"
    )
    return 0


def preview(*, days: int, start: date | None, directory: Path | None, seed: str) -> int:
    """Print ``days`` days of messages, starting on ``start``."""
    catalog = _load(directory)
    if catalog is None:
        return 1
    first = start or date.today()
    enrollment = Enrollment(start=first, seed=seed)
    for offset in range(days):
        today = first + timedelta(days=offset)
        print(f"──── {today:%a} {today.isoformat()} " + "─" * 40)
        print(reply_to_text(render_day(plan_day(catalog=catalog, enrollment=enrollment, today=today))))
        print()
    return 0


def _report(result: tuple[int, str]) -> int:
    code, text = result
    print(text, file=sys.stderr if code else sys.stdout)
    return code


# Each command, from its parsed arguments to its exit status.
_ACTIONS: dict[str, Callable[[argparse.Namespace], int]] = {
    "check-content": lambda args: check_content(args.directory),
    "preview": lambda args: preview(days=args.days, start=args.start, directory=args.content, seed=args.seed),
    "run": lambda _args: run(),
    "deliveries": lambda args: _report(deliveries(args.date or datetime.now(UTC).date())),
    "stats": lambda _args: _report(stats(datetime.now(UTC))),
    "backup": lambda args: admin_cli.backup(args.path, args.keep),
    "restore": lambda args: admin_cli.restore(args.path),
    "reload-content": lambda _args: admin_cli.reload_content(),
    "healthcheck": lambda _args: admin_cli.healthcheck(),
    "db": lambda _args: db_upgrade(),  # "upgrade" is its only subcommand
}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    # PTB 22 reports time periods (RetryAfter.retry_after) as timedelta only
    # with this set, and warns about the old int form otherwise.
    os.environ.setdefault("PTB_TIMEDELTA", "true")
    args = _parser().parse_args(argv)
    return _ACTIONS[args.command](args)
