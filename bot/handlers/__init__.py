"""Every handler, registered in one place, in the order that matters."""

from __future__ import annotations

from telegram.ext import CallbackQueryHandler, ChatMemberHandler, CommandHandler, MessageHandler, filters

from bot.handlers import admin, basics, buttons, done, faq, pause, settings, start, stats, today
from bot.handlers.context import BotApplication
from bot.handlers.errors import on_error

# New messages in private chats only: edited messages are not re-run as
# commands (a fixed typo must not log a second session or change settings).
PRIVATE = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE

COMMAND_CALLBACKS = {
    "start": start.start,
    "stop": start.stop,
    "today": today.today,
    "done": done.done,
    "faq": faq.faq,
    "stats": stats.stats,
    "settings": settings.settings,
    "time": settings.set_time,
    "timezone": settings.set_timezone,
    "pause": pause.pause,
    "resume": pause.resume,
    "help": basics.help_command,
}


def register(app: BotApplication, *, admin_ids: frozenset[int] = frozenset()) -> None:
    """Add every handler to ``app``. Within a group the first match wins."""
    # Block/unblock arrives as my_chat_member, never as a message.
    app.add_handler(ChatMemberHandler(basics.membership, ChatMemberHandler.MY_CHAT_MEMBER))
    # Commands in groups get a pointer to the private chat; other group
    # traffic is ignored (no handler matches it).
    app.add_handler(
        MessageHandler(filters.ChatType.GROUPS & filters.UpdateType.MESSAGE & filters.COMMAND, basics.group_command)
    )
    for name, callback in COMMAND_CALLBACKS.items():
        app.add_handler(CommandHandler(name, callback, filters=PRIVATE))
    # Admin commands exist only for admins: for anybody else they are unknown commands.
    admins = PRIVATE & filters.User(user_id=admin_ids)
    app.add_handler(CommandHandler("admin", admin.admin, filters=admins))
    app.add_handler(CommandHandler("announce", admin.announce, filters=admins))
    app.add_handler(CallbackQueryHandler(buttons.button))
    # After the known commands: any other command is unknown...
    app.add_handler(MessageHandler(PRIVATE & filters.COMMAND, basics.unknown_command))
    # ...and plain text is a question for the FAQ.
    app.add_handler(MessageHandler(PRIVATE & filters.TEXT, faq.question))
    app.add_error_handler(on_error)
