"""Content problems that name the file, the line and the field."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class ContentIssue:
    """One problem in one content file."""

    path: Path
    line: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line is not None else f"{self.path}"
        field = f" {self.field}:" if self.field else ""
        return f"{where}:{field} {self.message}"


class ContentError(Exception):
    """Content that must not be served; carries every issue found."""

    def __init__(self, issues: Iterable[ContentIssue]) -> None:
        self.issues = tuple(issues)
        super().__init__(self._summary())

    def _summary(self) -> str:
        count = len(self.issues)
        head = f"{count} content problem{'s' if count != 1 else ''}:"
        return "\n".join([head, *(f"  {issue}" for issue in self.issues)])
