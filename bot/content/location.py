"""Where the bundled content lives."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent.parent


def default_content_dir() -> Path:
    """The content shipped with the code.

    A wheel carries it inside the package (``bot/_content``); a source checkout
    or an editable install has it beside the package (``content/``).
    """
    packaged = _PACKAGE / "_content"
    return packaged if packaged.is_dir() else _PACKAGE.parent / "content"
