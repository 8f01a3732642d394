"""Frozen value types of the product: exercises, the program and a day's plan.

This module imports nothing from ``bot``; every other layer builds on it.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date


class Unit(enum.Enum):
    """What the amount of a prescription counts."""

    REPS = "reps"
    STEPS = "steps"
    SECONDS = "seconds"


class DayKind(enum.Enum):
    """Whether a program day is for training or for recovery."""

    TRAIN = "train"
    REST = "rest"


@dataclass(frozen=True, slots=True)
class FaqEntry:
    """One question about an exercise with its answer."""

    question: str
    answer: str


@dataclass(frozen=True, slots=True)
class Exercise:
    """One exercise: what it is, how to do it, tips and its FAQ."""

    id: str
    name: str
    summary: str
    equipment: tuple[str, ...]
    muscles: tuple[str, ...]
    description: tuple[str, ...]
    instructions: tuple[str, ...]
    tips: tuple[str, ...]
    faq: tuple[FaqEntry, ...]


@dataclass(frozen=True, slots=True)
class Tempo:
    """Seconds spent rising, holding at the top and lowering in one rep."""

    up: int
    hold: int
    down: int


@dataclass(frozen=True, slots=True)
class Prescription:
    """How much of an exercise to do on one day."""

    sets: int
    amount: int
    unit: Unit
    per_side: bool
    rest_seconds: int
    tempo: Tempo | None = None
    load: str | None = None


@dataclass(frozen=True, slots=True)
class Stage:
    """A block of weeks with its own exercise order, focus and prescriptions."""

    name: str
    from_week: int
    focus: str
    rotation: tuple[str, ...]
    prescriptions: tuple[tuple[str, Prescription], ...]

    def prescription_for(self, exercise_id: str) -> Prescription:
        """Return this stage's prescription for an exercise."""
        for known_id, prescription in self.prescriptions:
            if known_id == exercise_id:
                return prescription
        raise KeyError(exercise_id)


@dataclass(frozen=True, slots=True)
class Program:
    """The weekly pattern of training and rest, and the stages in order."""

    name: str
    week: tuple[DayKind, ...]
    stages: tuple[Stage, ...]


@dataclass(frozen=True, slots=True)
class Catalog:
    """All content the bot serves, loaded and validated."""

    exercises: tuple[Exercise, ...]
    program: Program

    def exercise(self, exercise_id: str) -> Exercise:
        """Return an exercise by id."""
        for exercise in self.exercises:
            if exercise.id == exercise_id:
                return exercise
        raise KeyError(exercise_id)

    def find_exercise(self, exercise_id: str) -> Exercise | None:
        """Return an exercise by id, or None for an unknown id."""
        try:
            return self.exercise(exercise_id)
        except KeyError:
            return None


@dataclass(frozen=True, slots=True)
class Enrollment:
    """What the planner needs to know about one subscriber.

    ``start`` is the local date of the program's first day; a pause moves it
    forward so the program resumes where it stopped. ``seed`` makes the tip
    order differ between subscribers while staying the same for one.
    """

    start: date
    seed: str


@dataclass(frozen=True, slots=True)
class TipPick:
    """The tip of the day with its place in the rotation (1-based)."""

    text: str
    number: int
    of: int


@dataclass(frozen=True, slots=True)
class DayPlan:
    """What one subscriber does on one local date."""

    day: date
    day_number: int
    week: int
    stage: Stage
    kind: DayKind
    exercise: Exercise | None = None
    prescription: Prescription | None = None
    tip: TipPick | None = None
    next_exercise: Exercise | None = None
    next_date: date | None = None
