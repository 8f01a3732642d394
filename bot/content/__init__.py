"""Exercise content: load ``content/`` and validate it before anything is served."""

from bot.content.errors import ContentError, ContentIssue
from bot.content.loader import load_catalog

__all__ = ["ContentError", "ContentIssue", "load_catalog"]
