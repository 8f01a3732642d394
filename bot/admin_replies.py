"""What admins read: the /admin report and the /announce conversation."""

from __future__ import annotations

from datetime import datetime

from bot import callbacks
from bot.db.admin import AdminFigures
from bot.db.announcements import Draft
from bot.render import Button, Reply, escape_text
from bot.reports import figures_lines

ADMIN_COMMANDS = (
    ("admin", "Admin: subscribers, deliveries and sessions"),
    ("announce", "Admin: send a message to every subscriber"),
)


def report(figures: AdminFigures, now: datetime) -> Reply:
    lines = [escape_text(line) for line in figures_lines(figures, now)]
    return Reply("\n".join([f"<b>📊 calfbot at {now:%H:%M} UTC</b>", *lines]))


def announce_usage() -> Reply:
    return Reply(
        "Write the announcement after the command, for example:\n"
        "<code>/announce New exercises arrive on Monday!</code>\n"
        "Bold, italic and links are kept. You confirm before anything is sent."
    )


def announce_too_long(length: int, limit: int) -> Reply:
    return Reply(f"That announcement is {length:,} characters; Telegram allows {limit:,}. Please shorten it.")


def announce_confirm(draft: Draft) -> Reply:
    who = "1 subscriber" if draft.recipients == 1 else f"{draft.recipients:,} subscribers"
    return Reply(
        f"☝️ This is exactly what subscribers will see. Send it to {who}?",
        keyboard=(
            (
                Button(f"📣 Send to {who}", callbacks.encode(callbacks.AnnounceSend(draft.id))),
                Button("Cancel", callbacks.encode(callbacks.AnnounceCancel(draft.id))),
            ),
        ),
    )


def announce_nobody() -> Reply:
    return Reply("There are no active subscribers yet, so there is nobody to announce to.")


def announce_started(announcement_id: int) -> Reply:
    return Reply(
        f"📣 Announcement #{announcement_id} is on its way, at the usual sending rate. /admin shows its progress."
    )


def announce_cancelled() -> Reply:
    return Reply("Cancelled: nothing was sent.")


def announce_settled() -> str:
    """A callback-query toast: the draft was sent or cancelled already (a double tap)."""
    return "Already sent or cancelled."
