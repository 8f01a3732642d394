"""The shape content files must have, and their conversion to domain values.

Models are strict: no type coercion ("12" is not 12), unknown keys are errors,
lists must not be empty and text must not be blank.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from bot.domain import DayKind, Exercise, FaqEntry, Prescription, Program, Stage, Tempo, Unit

# Exercise ids travel in Telegram callback data (64 bytes at most), so they stay short.
SLUG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
Slug = Annotated[str, StringConstraints(pattern=SLUG_PATTERN, max_length=40)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
Line = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=160)]
TempoText = Annotated[str, StringConstraints(pattern=r"^\d{1,2}-\d{1,2}-\d{1,2}$")]
NonEmpty = Field(min_length=1)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class FaqModel(_Model):
    question: Text
    answer: Text


class ExerciseModel(_Model):
    id: Slug
    name: Line
    summary: Line
    equipment: list[Text] = NonEmpty
    muscles: list[Text] = NonEmpty
    source: Text | None = None
    description: list[Text] = NonEmpty
    instructions: list[Text] = NonEmpty
    tips: list[Text] = NonEmpty
    faq: list[FaqModel] = NonEmpty

    def to_domain(self) -> Exercise:
        return Exercise(
            id=self.id,
            name=self.name,
            summary=self.summary,
            equipment=tuple(self.equipment),
            muscles=tuple(self.muscles),
            description=tuple(self.description),
            instructions=tuple(self.instructions),
            tips=tuple(self.tips),
            faq=tuple(FaqEntry(question=f.question, answer=f.answer) for f in self.faq),
        )


class PrescriptionModel(_Model):
    sets: int = Field(ge=1, le=10)
    reps: int | None = Field(default=None, ge=1, le=200)
    steps: int | None = Field(default=None, ge=1, le=500)
    seconds: int | None = Field(default=None, ge=1, le=600)
    per_side: bool = False
    rest_seconds: int = Field(ge=0, le=600)
    tempo: TempoText | None = None
    load: Text | None = None

    @model_validator(mode="after")
    def _one_amount(self) -> PrescriptionModel:
        given = [name for name in ("reps", "steps", "seconds") if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError(f"give exactly one of reps, steps or seconds (found {len(given)})")
        return self

    def to_domain(self) -> Prescription:
        for unit in Unit:
            amount = getattr(self, unit.value)
            if amount is not None:
                break
        tempo = None
        if self.tempo is not None:
            up, hold, down = (int(part) for part in self.tempo.split("-"))
            tempo = Tempo(up=up, hold=hold, down=down)
        return Prescription(
            sets=self.sets,
            amount=amount,
            unit=unit,
            per_side=self.per_side,
            rest_seconds=self.rest_seconds,
            tempo=tempo,
            load=self.load,
        )


class StageModel(_Model):
    name: Line
    from_week: int = Field(ge=1)
    focus: Text
    rotation: list[Slug] | None = Field(default=None, min_length=1)
    prescriptions: dict[Slug, PrescriptionModel] = NonEmpty

    def to_domain(self, default_rotation: list[str]) -> Stage:
        return Stage(
            name=self.name,
            from_week=self.from_week,
            focus=self.focus,
            rotation=tuple(self.rotation or default_rotation),
            prescriptions=tuple((key, p.to_domain()) for key, p in self.prescriptions.items()),
        )


class ProgramModel(_Model):
    name: Line
    week: list[Literal["train", "rest"]] = Field(min_length=7, max_length=7)
    rotation: list[Slug] = NonEmpty
    stages: list[StageModel] = NonEmpty

    def to_domain(self) -> Program:
        return Program(
            name=self.name,
            week=tuple(DayKind(day) for day in self.week),
            stages=tuple(stage.to_domain(self.rotation) for stage in self.stages),
        )
