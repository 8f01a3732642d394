"""Telegram HTML to terminal text, for previews."""

from __future__ import annotations

from html.parser import HTMLParser

from bot.render import Reply


class _TextCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def html_to_text(html: str) -> str:
    """Drop the tags and resolve the entities of a Telegram HTML text."""
    collector = _TextCollector()
    collector.feed(html)
    collector.close()
    return "".join(collector.parts)


def reply_to_text(reply: Reply) -> str:
    """A reply as a terminal shows it: the text, then its buttons in brackets."""
    rows = ["  ".join(f"[ {button.text} ]" for button in row) for row in reply.keyboard]
    return "\n".join([html_to_text(reply.text), *rows])
