"""Parse a YAML file once, keeping its node tree so errors can name lines.

``yaml.safe_load`` forgets where values came from and silently keeps the last
of two equal keys; content authors need both reported, so this module composes
the node tree with the safe loader, checks it, then constructs plain data from it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from bot.content.errors import ContentIssue

Loc = Sequence[str | int]


def format_loc(loc: Loc) -> str:
    """Write a field path the way an author reads it: ``faq[2].answer``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out


@dataclass(frozen=True, slots=True)
class YamlDocument:
    """The data of one YAML file with its node tree for line look-ups."""

    path: Path
    data: object
    root: yaml.Node

    def line_of(self, loc: Loc) -> int:
        """Return the 1-based line of the deepest node ``loc`` reaches."""
        node = self.root
        for part in loc:
            child = _child(node, part)
            if child is None:
                break
            node = child
        return node.start_mark.line + 1

    def issue(self, loc: Loc, message: str) -> ContentIssue:
        """Build an issue that points at ``loc`` in this file."""
        return ContentIssue(self.path, self.line_of(loc), format_loc(loc), message)


def _child(node: yaml.Node, part: str | int) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode) and isinstance(part, str):
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode) and key.value == part:
                # A scalar value sits on its key's line; point at the key so a
                # message about an unknown key names the line where it stands.
                return key if isinstance(value, yaml.ScalarNode) else value
        return None
    if isinstance(node, yaml.SequenceNode) and isinstance(part, int):
        return node.value[part] if 0 <= part < len(node.value) else None
    return None


def _duplicate_keys(node: yaml.Node, loc: tuple[str | int, ...] = ()) -> Iterator[tuple[Loc, int]]:
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key, value in node.value:
            name = str(key.value)
            if name in seen:
                yield (*loc, name), key.start_mark.line + 1
            seen.add(name)
            yield from _duplicate_keys(value, (*loc, name))
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            yield from _duplicate_keys(item, (*loc, index))


def read_yaml(path: Path) -> YamlDocument | ContentIssue:
    """Parse ``path`` safely; return the document or the first problem."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        return ContentIssue(path, None, "", f"is not UTF-8 text ({exc.reason} at byte {exc.start})")
    except OSError as exc:
        return ContentIssue(path, None, "", f"cannot be read ({exc.strerror})")
    try:
        return _parse(path, text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        return ContentIssue(
            path, mark.line + 1 if mark else None, "", f"is not valid YAML: {exc.problem or exc.context}"
        )
    except yaml.YAMLError as exc:
        return ContentIssue(path, None, "", f"is not valid YAML: {exc}")


def _parse(path: Path, text: str) -> YamlDocument | ContentIssue:
    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            return ContentIssue(path, 1, "", "is empty")
        for loc, line in _duplicate_keys(root):
            return ContentIssue(path, line, format_loc(loc), "duplicate key: each key may appear once")
        return YamlDocument(path=path, data=loader.construct_document(root), root=root)
    finally:
        loader.dispose()
