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
        """Return the 1-based line ``loc`` names: a key's own line, or an item's.

        Where ``loc`` leads past what the file holds (a missing field), the
        line of the deepest node it reaches is returned.
        """
        node = self.root
        line = node.start_mark.line + 1
        for part in loc:
            step = _child(node, part)
            if step is None:
                break
            key, node = step
            line = (key or node).start_mark.line + 1
        return line

    def issue(self, loc: Loc, message: str) -> ContentIssue:
        """Build an issue that points at ``loc`` in this file."""
        return ContentIssue(self.path, self.line_of(loc), format_loc(loc), message)


def _child(node: yaml.Node, part: str | int) -> tuple[yaml.Node | None, yaml.Node] | None:
    """The (key node, value node) that ``part`` selects below ``node``."""
    if isinstance(node, yaml.MappingNode) and isinstance(part, str):
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode) and key.value == part:
                return key, value
        return None
    if isinstance(node, yaml.SequenceNode) and isinstance(part, int):
        return (None, node.value[part]) if 0 <= part < len(node.value) else None
    return None


def _structure_problems(root: yaml.Node) -> Iterator[tuple[Loc, int, str]]:
    """Duplicate keys and aliases, with where they stand.

    Aliases (``*name``) are refused: content needs none, and refusing them
    rules out self-referencing and exponentially expanding documents.
    """
    seen: set[int] = set()
    pending: list[tuple[yaml.Node, tuple[str | int, ...]]] = [(root, ())]
    while pending:
        node, loc = pending.pop()
        if id(node) in seen:
            yield loc, node.start_mark.line + 1, "anchors and aliases (&name, *name) are not supported"
            continue
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            keys: set[str] = set()
            for key, value in node.value:
                name = str(key.value)
                if name in keys:
                    yield (*loc, name), key.start_mark.line + 1, "duplicate key: each key may appear once"
                keys.add(name)
                pending.append((value, (*loc, name)))
        elif isinstance(node, yaml.SequenceNode):
            pending.extend((item, (*loc, index)) for index, item in enumerate(node.value))


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
        return _syntax_issue(path, exc)
    except yaml.YAMLError as exc:
        return ContentIssue(path, None, "", f"is not valid YAML: {exc}")


def _parse(path: Path, text: str) -> YamlDocument | ContentIssue:
    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            return ContentIssue(path, 1, "", "is empty")
        for loc, line, message in _structure_problems(root):
            return ContentIssue(path, line, format_loc(loc), message)
        return YamlDocument(path=path, data=loader.construct_document(root), root=root)
    finally:
        loader.dispose()


def _syntax_issue(path: Path, exc: yaml.MarkedYAMLError) -> ContentIssue:
    # At the end of the file the problem mark is useless ("unexpected end of
    # stream" past the last line); the context mark says where the unclosed
    # quote or bracket opened.
    at_end = "end of stream" in (exc.problem or "")
    mark = (exc.context_mark if at_end else None) or exc.problem_mark or exc.context_mark
    words = ", ".join(part for part in (exc.context, exc.problem) if part) if at_end else exc.problem or exc.context
    return ContentIssue(path, mark.line + 1 if mark else None, "", f"is not valid YAML: {words}")
