"""A checker for the HTML subset Telegram's ``parse_mode=HTML`` accepts.

Telegram rejects a message whose tags are unknown or unbalanced, or whose text
holds a ``<``/``&`` that does not start a tag or a supported entity. The rules
here follow https://core.telegram.org/bots/api#html-style.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

ALLOWED_TAGS: dict[str, frozenset[str]] = {
    "b": frozenset(),
    "strong": frozenset(),
    "i": frozenset(),
    "em": frozenset(),
    "u": frozenset(),
    "ins": frozenset(),
    "s": frozenset(),
    "strike": frozenset(),
    "del": frozenset(),
    "tg-spoiler": frozenset(),
    "span": frozenset({"class"}),
    "a": frozenset({"href"}),
    "code": frozenset({"class"}),
    "pre": frozenset(),
    "blockquote": frozenset({"expandable"}),
    "tg-emoji": frozenset({"emoji-id"}),
}
# Telegram knows only these named entities; numeric ones are all fine.
ENTITY = re.compile(r"&(?:lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);")


class _Checker(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.stack: list[str] = []
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ALLOWED_TAGS:
            self.problems.append(f"tag <{tag}> is not allowed")
            return
        for name, _ in attrs:
            if name not in ALLOWED_TAGS[tag]:
                self.problems.append(f"attribute {name!r} is not allowed on <{tag}>")
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f"</{tag}> does not close the open tag {self.stack[-1:]}")
            return
        self.stack.pop()

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.problems.append(f"self-closing <{tag}/> is not allowed")

    def handle_entityref(self, name: str) -> None:
        if name not in {"lt", "gt", "amp", "quot"}:
            self.problems.append(f"entity &{name}; is not supported")

    def handle_comment(self, data: str) -> None:
        self.problems.append("comments are not allowed")

    def handle_decl(self, decl: str) -> None:
        self.problems.append("declarations are not allowed")


def telegram_html_problems(text: str) -> list[str]:
    """Return what Telegram would reject in ``text``; empty when it is valid."""
    checker = _Checker()
    checker.feed(text)
    checker.close()
    problems = list(checker.problems)
    if checker.stack:
        problems.append(f"unclosed tags: {checker.stack}")
    # A bare & or < in text: HTMLParser tolerates both, Telegram does not.
    for match in re.finditer(r"&", text):
        if not ENTITY.match(text, match.start()):
            problems.append(f"bare '&' at {match.start()}")
    for match in re.finditer(r"<(?!/?[a-z-]+[ >])", text):
        problems.append(f"bare '<' at {match.start()}")
    return problems
