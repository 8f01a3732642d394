"""Reading the Dockerfile and .dockerignore as Docker would, for tests without a container engine."""

from __future__ import annotations

import fnmatch
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

from dockerfile_parse import DockerfileParser  # type: ignore[import-untyped]

REPO = Path(__file__).resolve().parents[2]


@dataclass
class Instruction:
    name: str  # upper case, e.g. "COPY"
    value: str  # the rest of the instruction, continuation lines joined


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[Instruction] = field(default_factory=list)

    def all(self, name: str) -> list[Instruction]:
        return [i for i in self.instructions if i.name == name]

    def last(self, name: str) -> Instruction | None:
        found = self.all(name)
        return found[-1] if found else None


def stages(path: Path = REPO / "Dockerfile") -> list[Stage]:
    """The Dockerfile's stages in order, each with its instructions."""
    parser = DockerfileParser(path=str(path))
    structure = cast(list[dict[str, str]], parser.structure)
    result: list[Stage] = []
    for entry in structure:
        name, value = entry["instruction"].upper(), entry["value"]
        if name == "FROM":
            words = value.split()
            words = [w for w in words if not w.startswith("--")]
            stage_name = words[2] if len(words) >= 3 and words[1].upper() == "AS" else None
            result.append(Stage(base=words[0], name=stage_name))
        elif name != "COMMENT":
            assert result, f"{name} before any FROM"
            result[-1].instructions.append(Instruction(name, value))
    return result


def env_of(stage: Stage) -> dict[str, str]:
    """ENV settings of a stage (the KEY=value form)."""
    values: dict[str, str] = {}
    for instruction in stage.all("ENV"):
        for word in shlex.split(instruction.value.replace("\\\n", " ")):
            key, sep, value = word.partition("=")
            assert sep, f"ENV {instruction.value!r}: use the KEY=value form"
            values[key] = value
    return values


def copy_sources(stage: Stage) -> list[str]:
    """What the stage's COPY and ADD instructions take from the build context (not from other stages)."""
    sources: list[str] = []
    for instruction in stage.all("COPY") + stage.all("ADD"):
        words = shlex.split(instruction.value)
        if any(w.startswith("--from=") for w in words):
            continue
        paths = [w for w in words if not w.startswith("--")]
        sources.extend(paths[:-1])
    return sources


def _pattern(pattern: str) -> re.Pattern[str]:
    """A .dockerignore pattern (Go's filepath.Match plus ``**``) as a regex on slash paths."""
    pattern = pattern.strip("/")
    parts = []
    for segment in pattern.split("/"):
        if segment == "**":
            parts.append("(?:.*)")
        else:
            parts.append(fnmatch.translate(segment).removeprefix("(?s:").removesuffix(")\\Z").replace(".*", "[^/]*"))
    return re.compile("/".join(parts).replace("(?:.*)/", "(?:.*/)?") + r"\Z")


class DockerIgnore:
    """Docker's rule: the last pattern that matches a path, or one of its parent directories, decides."""

    def __init__(self, path: Path = REPO / ".dockerignore") -> None:
        self.rules: list[tuple[bool, re.Pattern[str]]] = []
        for raw in path.read_text(encoding="utf-8").splitlines():
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            keep = line.startswith("!")
            self.rules.append((keep, _pattern(line.removeprefix("!").strip())))

    def excluded(self, relative: str) -> bool:
        parts = relative.strip("/").split("/")
        candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        excluded = False
        for keep, pattern in self.rules:
            if any(pattern.match(candidate) for candidate in candidates):
                excluded = not keep
        return excluded
