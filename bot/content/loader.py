"""Load ``content/`` into a validated Catalog, or report every problem found."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from bot.content.errors import ContentError, ContentIssue
from bot.content.fit import oversized_messages
from bot.content.schema import ExerciseModel, ProgramModel
from bot.content.yaml_source import YamlDocument, read_yaml
from bot.domain import Catalog, DayKind, Exercise, Program

PROGRAM_FILE = "program.yaml"
EXERCISES_DIR = "exercises"

M = TypeVar("M", bound=BaseModel)


def load_catalog(directory: Path) -> Catalog:
    """Load and validate every content file under ``directory``.

    Raises ContentError listing every problem (file, line, field), so an
    author fixes them in one pass rather than one per run.
    """
    issues: list[ContentIssue] = []
    exercises, present = _load_exercises(directory / EXERCISES_DIR, issues)
    program_doc = _read(directory / PROGRAM_FILE, issues)
    model = _validate(program_doc, ProgramModel, issues) if program_doc else None
    program = model.to_domain() if model else None
    if program is not None and program_doc is not None:
        issues.extend(_program_issues(program_doc, program, present))
    if program is not None and issues:
        program = None  # a broken program cannot be rendered; size the exercises alone
    issues.extend(oversized_messages(exercises, program, program_doc))
    if issues or program is None:
        # A shared default rotation can raise one issue per stage; report it once.
        raise ContentError(dict.fromkeys(issues))
    return Catalog(exercises=tuple(e for e, _ in exercises), program=program)


def _read(path: Path, issues: list[ContentIssue]) -> YamlDocument | None:
    if not path.is_file():
        issues.append(ContentIssue(path, None, "", "is missing"))
        return None
    result = read_yaml(path)
    if isinstance(result, ContentIssue):
        issues.append(result)
        return None
    return result


def _validate(doc: YamlDocument, model: type[M], issues: list[ContentIssue]) -> M | None:
    if not isinstance(doc.data, dict):
        issues.append(doc.issue((), "must be a mapping of fields (key: value)"))
        return None
    try:
        return model.model_validate(doc.data)
    except ValidationError as exc:
        issues.extend(doc.issue(err["loc"], _explain(err)) for err in exc.errors())
        return None


def _explain(err: ErrorDetails) -> str:
    kind = err["type"]
    if kind == "missing":
        return "required field is missing"
    if kind == "extra_forbidden":
        return "unknown key (check its spelling against content/README.md)"
    if kind == "too_short" and err["ctx"].get("min_length") == 1:
        return "must not be empty"
    if kind == "string_too_short" or (kind == "string_type" and err["input"] is None):
        return "must not be blank"
    if kind == "string_type" and isinstance(err["input"], bool):
        return "YAML reads yes/no/on/off/true/false as a yes-or-no value: put this text in quotes"
    return str(err["msg"]).removeprefix("Value error, ")


def _load_exercises(folder: Path, issues: list[ContentIssue]) -> tuple[list[tuple[Exercise, YamlDocument]], set[str]]:
    """The exercises that loaded, and the ids of all files present (broken or not)."""
    if not folder.is_dir():
        issues.append(ContentIssue(folder, None, "", "is missing: exercises live in exercises/<id>.yaml"))
        return [], set()
    paths = sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")])
    if not paths:
        issues.append(ContentIssue(folder, None, "", "has no exercise files (*.yaml)"))
    loaded: list[tuple[Exercise, YamlDocument]] = []
    first_file: dict[str, Path] = {}
    for path in paths:
        doc = _read(path, issues)
        model = _validate(doc, ExerciseModel, issues) if doc else None
        if model is None or doc is None:
            continue
        if model.id != path.stem:
            issues.append(doc.issue(("id",), f"must equal the file name {path.stem!r}"))
        issues.extend(_repeated_items(doc, model))
        if model.id in first_file:
            issues.append(doc.issue(("id",), f"duplicate id {model.id!r}: also in {first_file[model.id]}"))
            continue
        first_file[model.id] = path
        loaded.append((model.to_domain(), doc))
    return loaded, {path.stem for path in paths}


def _repeated_items(doc: YamlDocument, model: ExerciseModel) -> Iterator[ContentIssue]:
    """Equal entries would break the tip rotation and make FAQ answers ambiguous."""
    lists: dict[str, list[str]] = {
        "instructions": model.instructions,
        "tips": model.tips,
        "faq": [entry.question for entry in model.faq],
    }
    for field, items in lists.items():
        first_seen: dict[str, int] = {}
        for index, item in enumerate(items):
            key = " ".join(item.casefold().split())
            if key in first_seen:
                what = "question" if field == "faq" else "entry"
                yield doc.issue((field, index), f"repeats {field}[{first_seen[key]}]: each {what} must be different")
            first_seen.setdefault(key, index)


def _program_issues(doc: YamlDocument, program: Program, known: set[str]) -> Iterator[ContentIssue]:
    if DayKind.TRAIN not in program.week:
        yield doc.issue(("week",), "needs at least one train day")
    raw_stages = doc.data.get("stages", []) if isinstance(doc.data, dict) else []
    for index, stage in enumerate(program.stages):
        # A stage without its own rotation uses the program's; point there.
        own = isinstance(raw_stages[index], dict) and "rotation" in raw_stages[index]
        rotation_loc: tuple[str | int, ...] = ("stages", index, "rotation") if own else ("rotation",)
        for position, exercise_id in enumerate(stage.rotation):
            if exercise_id not in known:
                yield doc.issue(
                    (*rotation_loc, position), f"unknown exercise {exercise_id!r}: no exercises/{exercise_id}.yaml"
                )
        listed = {key for key, _ in stage.prescriptions}
        for exercise_id in sorted(set(stage.rotation) - listed):
            yield doc.issue(("stages", index, "prescriptions"), f"no prescription for {exercise_id!r}")
        for exercise_id in sorted(listed - set(stage.rotation)):
            loc = ("stages", index, "prescriptions", exercise_id)
            yield doc.issue(loc, f"{exercise_id!r} is not in this stage's rotation")
    if program.stages[0].from_week != 1:
        yield doc.issue(("stages", 0, "from_week"), "the first stage must start at week 1")
    for index, (before, after) in enumerate(zip(program.stages, program.stages[1:], strict=False), start=1):
        if after.from_week <= before.from_week:
            yield doc.issue(("stages", index, "from_week"), "stages must start in increasing weeks")
