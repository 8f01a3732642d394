"""Rendered keyboards as Telegram inline markup, for handlers and the delivery engine."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.render import Keyboard


def markup(keyboard: Keyboard) -> InlineKeyboardMarkup | None:
    """A rendered keyboard as Telegram's inline markup (None when empty)."""
    if not keyboard:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(button.text, callback_data=button.data) for button in row] for row in keyboard]
    )
