"""Broken content is refused with issues that name the file, the line and the field.

Every test copies ``minimal/`` (a small valid content directory: ``program.yaml``
and the exercises ``alpha`` and ``beta``) to ``tmp_path``, breaks one thing,
and checks what ``load_catalog`` reports. YAML texts are written out in full
where the line numbers matter, so a reader can count the lines; the line an
issue must name is marked with a ``# line N`` comment.
"""

from __future__ import annotations

import re
import shutil
import textwrap
from pathlib import Path

import pytest

from bot.content import ContentError, ContentIssue, load_catalog

MINIMAL = Path(__file__).parent / "minimal"
TELEGRAM_LIMIT = re.compile(r"would be (\d+) characters; Telegram allows 4096$")


@pytest.fixture
def content(tmp_path: Path) -> Path:
    """A fresh copy of the minimal valid content directory."""
    target = tmp_path / "content"
    shutil.copytree(MINIMAL, target)
    return target


def write(path: Path, text: str) -> Path:
    """Write ``text`` (dedented; the first line of the literal is line 1)."""
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def issues_of(content: Path) -> tuple[ContentIssue, ...]:
    """Load ``content``, which must fail, and return every issue reported."""
    with pytest.raises(ContentError) as caught:
        load_catalog(content)
    return caught.value.issues


def issues_in(issues: tuple[ContentIssue, ...], path: Path) -> list[ContentIssue]:
    return [issue for issue in issues if issue.path == path]


def assert_issue(issue: ContentIssue, path: Path, line: int | None, field: str, phrase: str) -> None:
    assert (issue.path, issue.line, issue.field) == (path, line, field), str(issue)
    assert phrase in issue.message, str(issue)


def long_message_length(issue: ContentIssue) -> int:
    match = TELEGRAM_LIMIT.search(issue.message)
    assert match is not None, str(issue)
    return int(match.group(1))


def alpha_with(*, tips: str) -> str:
    """The minimal alpha exercise with its ``tips:`` block (lines 11-13) replaced."""
    return (
        "id: alpha\n"
        "name: Alpha Raise\n"
        "summary: Rise onto the balls of your feet, then lower slowly.\n"
        "equipment: [none]\n"
        "muscles: [gastrocnemius, soleus]\n"
        "description:\n"
        "  - A simple calf raise on flat ground.\n"
        "instructions:\n"
        "  - Stand tall with your feet hip-width apart.\n"
        "  - Rise onto the balls of your feet and lower slowly.\n"
        f"{tips}"
        "faq:\n"
        "  - question: How often can I do this?\n"
        "    answer: Three to five times a week.\n"
    )


# --- the base -------------------------------------------------------------------------------------------------------


def test_minimal_content_loads() -> None:
    """The minimal directory every case starts from is valid content."""
    catalog = load_catalog(MINIMAL)

    assert [exercise.id for exercise in catalog.exercises] == ["alpha", "beta"]
    assert [stage.name for stage in catalog.program.stages] == ["Start", "Build"]
    assert catalog.program.stages[0].rotation == ("alpha", "beta")
    assert [len(exercise.tips) for exercise in catalog.exercises] == [2, 2]


# --- 1-2. unknown keys ----------------------------------------------------------------------------------------------


def test_misspelt_key_is_an_unknown_key(content: Path) -> None:
    """A misspelt ``tipps:`` is an unknown key on its own line, and ``tips`` is then missing."""
    alpha = write(
        content / "exercises" / "alpha.yaml", alpha_with(tips="tipps: [Keep it slow., Breathe out.]  # line 11\n")
    )

    issues = issues_in(issues_of(content), alpha)

    assert len(issues) == 2, issues
    unknown = next(issue for issue in issues if issue.field == "tipps")
    assert str(unknown) == f"{alpha}:11: tipps: unknown key (check its spelling against content/README.md)"
    assert_issue(
        next(issue for issue in issues if issue.field == "tips"), alpha, 1, "tips", "required field is missing"
    )


def test_unknown_key_with_a_block_list_is_reported_on_the_key_line(content: Path) -> None:
    """``tipps:`` followed by a block list is reported on the ``tipps:`` line, where the typo is."""
    alpha = write(
        content / "exercises" / "alpha.yaml",
        alpha_with(
            tips=(
                "tipps:  # line 11\n"  # the typo an author must find
                "  - Keep the weight over the big toe.\n"
                "  - Lower more slowly than you rise.\n"
            )
        ),
    )

    unknown = [issue for issue in issues_of(content) if issue.path == alpha and issue.field == "tipps"]

    assert len(unknown) == 1
    assert_issue(unknown[0], alpha, 11, "tipps", "unknown key")


def test_unknown_key_inside_a_flow_prescription(content: Path) -> None:
    """An unquoted comma in a flow mapping (``load: bodyweight, small hops``) makes ``small hops`` an unknown key."""
    program = write(
        content / "program.yaml",
        """\
        name: Minimal Program
        week: [train, rest, train, rest, train, rest, rest]
        rotation: [alpha, beta]
        stages:
          - name: Start
            from_week: 1
            focus: Go slowly and stay in control.
            prescriptions:
              alpha: {sets: 2, reps: 10, rest_seconds: 30, load: bodyweight, small hops}  # line 9
              beta: {sets: 2, seconds: 20, rest_seconds: 30}
        """,
    )

    (issue,) = issues_of(content)

    assert_issue(issue, program, 9, "stages[0].prescriptions.alpha.small hops", "unknown key")


# --- 3-6. the shape of an exercise -----------------------------------------------------------------------------------


def test_missing_required_field(content: Path) -> None:
    """A required field that is absent is reported at the start of the mapping that lacks it (line 1)."""
    alpha = write(
        content / "exercises" / "alpha.yaml",
        """\
        id: alpha
        name: Alpha Raise
        equipment: [none]
        muscles: [gastrocnemius, soleus]
        description:
          - A simple calf raise on flat ground.
        instructions:
          - Stand tall with your feet hip-width apart.
        tips:
          - Keep the weight over the big toe.
          - Lower more slowly than you rise.
        faq:
          - question: How often can I do this?
            answer: Three to five times a week.
        """,
    )

    (issue,) = issues_in(issues_of(content), alpha)

    assert_issue(issue, alpha, 1, "summary", "required field is missing")


def test_empty_list(content: Path) -> None:
    """``tips: []`` is refused: every list in an exercise needs at least one entry."""
    alpha = write(content / "exercises" / "alpha.yaml", alpha_with(tips="tips: []  # line 11\n"))

    (issue,) = issues_in(issues_of(content), alpha)

    assert_issue(issue, alpha, 11, "tips", "must not be empty")


def test_blank_text_item(content: Path) -> None:
    """A list item that is only spaces is refused as blank, on its own line."""
    alpha = write(
        content / "exercises" / "alpha.yaml",
        alpha_with(
            tips=(
                'tips:\n  - Keep the weight over the big toe.\n  - "   "  # line 13\n'  # the second tip, tips[1]
            )
        ),
    )

    (issue,) = issues_in(issues_of(content), alpha)

    assert_issue(issue, alpha, 13, "tips[1]", "must not be blank")


def test_string_where_a_number_is_expected(content: Path) -> None:
    """The schema is strict: ``sets: "3"`` is a string, not the number 3."""
    program = write(
        content / "program.yaml",
        """\
        name: Minimal Program
        week: [train, rest, train, rest, train, rest, rest]
        rotation: [alpha, beta]
        stages:
          - name: Start
            from_week: 1
            focus: Go slowly and stay in control.
            prescriptions:
              alpha: {sets: "3", reps: 10, rest_seconds: 30}  # line 9
              beta: {sets: 2, seconds: 20, rest_seconds: 30}
        """,
    )

    (issue,) = issues_of(content)

    assert_issue(issue, program, 9, "stages[0].prescriptions.alpha.sets", "valid integer")


def test_tip_that_yaml_reads_as_a_mapping(content: Path) -> None:
    """``- Note: keep it slow`` is a mapping to YAML, so the tip is not text; it is reported on its line."""
    alpha = write(
        content / "exercises" / "alpha.yaml",
        alpha_with(
            tips=(
                "tips:\n"
                "  - Note: keep it slow  # line 12\n"  # the first tip, tips[0]
                "  - Lower more slowly than you rise.\n"
            )
        ),
    )

    (issue,) = issues_in(issues_of(content), alpha)

    assert_issue(issue, alpha, 12, "tips[0]", "valid string")


# --- 7-8. exercise ids -----------------------------------------------------------------------------------------------


def test_duplicate_exercise_id(content: Path) -> None:
    """Two files with the same ``id``: the later file is reported, naming the file that has it already.

    ``gamma.yaml`` also breaks the rule that the id equals the file name, so that is reported too.
    """
    alpha = content / "exercises" / "alpha.yaml"
    gamma = write(
        content / "exercises" / "gamma.yaml",
        """\
        id: alpha  # line 1
        name: Gamma Raise
        summary: A copy of alpha whose id was not changed.
        equipment: [none]
        muscles: [soleus]
        description:
          - Copied from alpha.
        instructions:
          - Stand tall.
        tips:
          - Keep it slow.
        faq:
          - question: Is this a copy?
            answer: Yes.
        """,
    )

    issues = issues_of(content)

    assert issues_in(issues, alpha) == []
    name_issue, duplicate_issue = issues_in(issues, gamma)
    assert_issue(name_issue, gamma, 1, "id", "must equal the file name 'gamma'")
    assert_issue(duplicate_issue, gamma, 1, "id", f"duplicate id 'alpha': also in {alpha}")
    assert len(issues) == 2, issues


def test_id_must_equal_the_file_name(content: Path) -> None:
    """An exercise's ``id`` must equal its file name without ``.yaml``."""
    alpha = write(
        content / "exercises" / "alpha.yaml",
        """\
        id: alpha-raise  # line 1
        name: Alpha Raise
        summary: Rise onto the balls of your feet, then lower slowly.
        equipment: [none]
        muscles: [gastrocnemius, soleus]
        description:
          - A simple calf raise on flat ground.
        instructions:
          - Stand tall with your feet hip-width apart.
        tips:
          - Keep the weight over the big toe.
        faq:
          - question: How often can I do this?
            answer: Three to five times a week.
        """,
    )

    (issue,) = issues_in(issues_of(content), alpha)

    assert_issue(issue, alpha, 1, "id", "must equal the file name 'alpha'")


# --- 9-10. the program and its exercises -----------------------------------------------------------------------------


def test_program_rotation_names_an_unknown_exercise(content: Path) -> None:
    """An id in the program's ``rotation`` without an exercise file is reported once, at its position.

    Both stages use the program's rotation; the shared problem is not repeated per stage.
    """
    program = write(
        content / "program.yaml",
        """\
        name: Minimal Program
        week: [train, rest, train, rest, train, rest, rest]
        rotation:
          - alpha
          - beta
          - gamma  # line 6
        stages:
          - name: Start
            from_week: 1
            focus: Go slowly and stay in control.
            prescriptions:
              alpha: {sets: 2, reps: 10, rest_seconds: 30}
              beta: {sets: 2, seconds: 20, rest_seconds: 30}
              gamma: {sets: 2, reps: 10, rest_seconds: 30}
          - name: Build
            from_week: 3
            focus: One more set each day.
            prescriptions:
              alpha: {sets: 3, reps: 12, rest_seconds: 45}
              beta: {sets: 3, seconds: 30, rest_seconds: 45}
              gamma: {sets: 3, reps: 12, rest_seconds: 45}
        """,
    )

    (issue,) = issues_of(content)

    assert_issue(issue, program, 6, "rotation[2]", "unknown exercise 'gamma': no exercises/gamma.yaml")


def test_stage_rotation_names_an_unknown_exercise(content: Path) -> None:
    """An id in a stage's own ``rotation`` without an exercise file is reported in that stage."""
    program = write(
        content / "program.yaml",
        """\
        name: Minimal Program
        week: [train, rest, train, rest, train, rest, rest]
        rotation: [alpha, beta]
        stages:
          - name: Start
            from_week: 1
            focus: Go slowly and stay in control.
            prescriptions:
              alpha: {sets: 2, reps: 10, rest_seconds: 30}
              beta: {sets: 2, seconds: 20, rest_seconds: 30}
          - name: Hop
            from_week: 3
            focus: Add hops.
            rotation:
              - alpha
              - hops  # line 16
            prescriptions:
              alpha: {sets: 3, reps: 12, rest_seconds: 45}
              hops: {sets: 2, seconds: 15, rest_seconds: 60}
        """,
    )

    (issue,) = issues_of(content)

    assert_issue(issue, program, 16, "stages[1].rotation[1]", "unknown exercise 'hops'")


def test_stage_without_a_prescription_for_a_rotation_exercise(content: Path) -> None:
    """A stage must prescribe every exercise in its rotation; the issue points at its ``prescriptions`` mapping.

    The issue stands on the ``prescriptions:`` key's line (line 8).
    """
    program = write(
        content / "program.yaml",
        """\
        name: Minimal Program
        week: [train, rest, train, rest, train, rest, rest]
        rotation: [alpha, beta]
        stages:
          - name: Start
            from_week: 1
            focus: Go slowly and stay in control.
            prescriptions:
              alpha: {sets: 2, reps: 10, rest_seconds: 30}
        """,
    )

    (issue,) = issues_of(content)

    assert_issue(issue, program, 8, "stages[0].prescriptions", "no prescription for 'beta'")


def test_prescription_for_an_exercise_outside_the_stage_rotation(content: Path) -> None:
    """A prescription for an exercise the stage never reaches is an error, on that prescription's line."""
    program = write(
        content / "program.yaml",
        """\
        name: Minimal Program
        week: [train, rest, train, rest, train, rest, rest]
        rotation: [alpha, beta]
        stages:
          - name: Start
            from_week: 1
            focus: Alpha only.
            rotation: [alpha]
            prescriptions:
              alpha: {sets: 2, reps: 10, rest_seconds: 30}
              beta: {sets: 2, seconds: 20, rest_seconds: 30}  # line 11
        """,
    )

    (issue,) = issues_of(content)

    assert_issue(issue, program, 11, "stages[0].prescriptions.beta", "'beta' is not in this stage's rotation")


# --- 11-13. stages, week and prescriptions ---------------------------------------------------------------------------


PROGRAM_WITH_WEEKS = """\
name: Minimal Program
week: [train, rest, train, rest, train, rest, rest]
rotation: [alpha, beta]
stages:
  - name: Start
    from_week: {first}  # line 6
    focus: Go slowly and stay in control.
    prescriptions:
      alpha: {{sets: 2, reps: 10, rest_seconds: 30}}
      beta: {{sets: 2, seconds: 20, rest_seconds: 30}}
  - name: Build
    from_week: {second}  # line 12
    focus: One more set each day.
    prescriptions:
      alpha: {{sets: 3, reps: 12, rest_seconds: 45}}
      beta: {{sets: 3, seconds: 30, rest_seconds: 45}}
"""


def test_first_stage_must_start_at_week_one(content: Path) -> None:
    """The first stage must start at week 1, or the first weeks would have no stage."""
    program = write(content / "program.yaml", PROGRAM_WITH_WEEKS.format(first=2, second=3))

    (issue,) = issues_of(content)

    assert_issue(issue, program, 6, "stages[0].from_week", "the first stage must start at week 1")


def test_stages_must_start_in_increasing_weeks(content: Path) -> None:
    """A stage starting in the same week as the one before it (or earlier) is reported."""
    program = write(content / "program.yaml", PROGRAM_WITH_WEEKS.format(first=1, second=1))

    (issue,) = issues_of(content)

    assert_issue(issue, program, 12, "stages[1].from_week", "stages must start in increasing weeks")


def test_week_without_a_train_day(content: Path) -> None:
    """A week of rest days only would never train."""
    program = content / "program.yaml"
    text = program.read_text(encoding="utf-8")
    program.write_text(
        text.replace(
            "week: [train, rest, train, rest, train, rest, rest]", "week: [rest, rest, rest, rest, rest, rest, rest]"
        ),
        encoding="utf-8",
    )

    (issue,) = issues_of(content)

    assert_issue(issue, program, 2, "week", "needs at least one train day")


def test_week_must_have_seven_entries(content: Path) -> None:
    """``week`` must have exactly seven entries."""
    program = content / "program.yaml"
    text = program.read_text(encoding="utf-8")
    program.write_text(
        text.replace(
            "week: [train, rest, train, rest, train, rest, rest]", "week: [train, rest, train, rest, train, rest]"
        ),
        encoding="utf-8",
    )

    (issue,) = issues_of(content)

    assert_issue(issue, program, 2, "week", "at least 7 items")


PROGRAM_WITH_BETA = """\
name: Minimal Program
week: [train, rest, train, rest, train, rest, rest]
rotation: [alpha, beta]
stages:
  - name: Start
    from_week: 1
    focus: Go slowly and stay in control.
    prescriptions:
      alpha: {{sets: 2, reps: 10, rest_seconds: 30}}
      beta: {beta}  # line 10
"""


def test_prescription_with_two_amounts(content: Path) -> None:
    """A prescription gives exactly one of reps, steps or seconds; two is an error."""
    program = write(
        content / "program.yaml", PROGRAM_WITH_BETA.format(beta="{sets: 2, reps: 8, seconds: 20, rest_seconds: 30}")
    )

    (issue,) = issues_of(content)

    assert_issue(issue, program, 10, "stages[0].prescriptions.beta", "give exactly one of reps, steps or seconds")
    assert "(found 2)" in issue.message


def test_prescription_without_an_amount(content: Path) -> None:
    """A prescription without reps, steps or seconds is an error."""
    program = write(content / "program.yaml", PROGRAM_WITH_BETA.format(beta="{sets: 2, rest_seconds: 30}"))

    (issue,) = issues_of(content)

    assert_issue(issue, program, 10, "stages[0].prescriptions.beta", "give exactly one of reps, steps or seconds")
    assert "(found 0)" in issue.message


# --- 14. messages longer than Telegram allows ------------------------------------------------------------------------


def test_faq_answer_too_long_for_telegram(content: Path) -> None:
    """A 5000-character FAQ answer cannot be sent; the issue names the answer and the rendered length."""
    alpha = write(
        content / "exercises" / "alpha.yaml",
        alpha_with(tips="tips:\n  - Keep it slow.\n  - Breathe out.\n").replace(
            "answer: Three to five times a week.", f"answer: {'x' * 5000}  # line 16"
        ),
    )

    (issue,) = issues_of(content)

    assert_issue(issue, alpha, 16, "faq[0].answer", "this FAQ answer would be")
    assert long_message_length(issue) > 5000


def test_description_too_long_for_the_about_message(content: Path) -> None:
    """Two 2100-character paragraphs make the About message too long; the issue names ``description``.

    The issue stands on the ``description:`` key's line (line 6).
    """
    paragraph = "y" * 2100
    alpha = write(
        content / "exercises" / "alpha.yaml",
        f"""\
        id: alpha
        name: Alpha Raise
        summary: Rise onto the balls of your feet, then lower slowly.
        equipment: [none]
        muscles: [gastrocnemius, soleus]
        description:
          - {paragraph}
          - {paragraph}
        instructions:
          - Stand tall with your feet hip-width apart.
        tips:
          - Keep the weight over the big toe.
        faq:
          - question: How often can I do this?
            answer: Three to five times a week.
        """,
    )

    (issue,) = issues_of(content)

    assert_issue(issue, alpha, 6, "description", "the 'About' message would be")
    assert long_message_length(issue) > 4200


def test_instructions_too_long_for_the_daily_message(content: Path) -> None:
    """4100 characters of instructions make the daily message too long in every stage that prescribes alpha.

    The issue stands once, on the ``instructions:`` key's line (line 8).
    """
    alpha = write(
        content / "exercises" / "alpha.yaml",
        f"""\
        id: alpha
        name: Alpha Raise
        summary: Rise onto the balls of your feet, then lower slowly.
        equipment: [none]
        muscles: [gastrocnemius, soleus]
        description:
          - A simple calf raise on flat ground.
        instructions:
          - {"z" * 4100}
        tips:
          - Keep the weight over the big toe.
        faq:
          - question: How often can I do this?
            answer: Three to five times a week.
        """,
    )

    # Both stages overflow; the cause is one field, reported once, on its key's line.
    (issue,) = issues_of(content)

    assert_issue(issue, alpha, 8, "instructions", "the daily message in stage 'Start' would be")
    assert long_message_length(issue) > 4100


def test_tip_too_long_for_the_daily_message_names_the_tip(content: Path) -> None:
    """A 4500-character tip makes the daily message too long; the issue names that tip, not the instructions."""
    alpha = write(
        content / "exercises" / "alpha.yaml",
        alpha_with(tips=f"tips:\n  - Keep it slow.\n  - {'t' * 4500}  # line 13\n"),
    )

    issues = issues_of(content)

    assert issues
    for issue in issues:
        assert_issue(issue, alpha, 13, "tips[1]", "the daily message in stage")


def test_stage_focus_too_long_for_the_daily_message_names_the_focus(content: Path) -> None:
    """A 4500-character stage focus makes every daily message of that stage too long; the issue names the focus."""
    program = content / "program.yaml"
    text = program.read_text(encoding="utf-8")
    program.write_text(text.replace("Go slowly and stay in control.", "f" * 4500), encoding="utf-8")

    issues = issues_of(content)

    assert issues
    for issue in issues:
        assert_issue(issue, program, 7, "stages[0].focus", "the daily message in stage 'Start'")


# --- 15-17. files that are not valid YAML or not a mapping -----------------------------------------------------------


def test_bad_indentation_is_invalid_yaml(content: Path) -> None:
    """A list item indented less than its siblings is a YAML error, reported on that item's line."""
    alpha = write(
        content / "exercises" / "alpha.yaml",
        alpha_with(
            tips=(
                "tips:\n"
                "  - Keep the weight over the big toe.\n"
                " - Lower more slowly than you rise.  # line 13\n"  # one space short
            )
        ),
    )

    (issue,) = issues_in(issues_of(content), alpha)

    assert_issue(issue, alpha, 13, "", "is not valid YAML")


def test_unclosed_quote_is_reported_where_the_quote_opens(content: Path) -> None:
    """An unclosed quote is a YAML error reported on the line where the quoted text starts."""
    alpha = write(
        content / "exercises" / "alpha.yaml",
        """\
        id: alpha
        name: Alpha Raise
        summary: "Rise onto the balls of your feet, then lower slowly.  # line 3
        equipment: [none]
        muscles: [gastrocnemius, soleus]
        description:
          - A simple calf raise on flat ground.
        instructions:
          - Stand tall with your feet hip-width apart.
          - Rise onto the balls of your feet and lower slowly.
        tips:
          - Keep the weight over the big toe.
          - Lower more slowly than you rise.
        faq:
          - question: How often can I do this?
            answer: Three to five times a week.
        """,
    )

    (issue,) = issues_in(issues_of(content), alpha)

    assert_issue(issue, alpha, 3, "", "is not valid YAML")


def test_self_referencing_anchor_is_a_content_error(content: Path) -> None:
    """An anchor that contains itself is reported as a content problem, not a crash."""
    alpha = write(
        content / "exercises" / "alpha.yaml",
        alpha_with(tips="tips: &tips [Keep it slow., *tips]  # line 11\n"),
    )

    issues = issues_in(issues_of(content), alpha)

    assert len(issues) == 1
    assert issues[0].path == alpha


def test_duplicate_key_is_reported_at_its_second_occurrence(content: Path) -> None:
    """YAML would silently keep the last of two equal keys; the second one is reported instead."""
    alpha = write(
        content / "exercises" / "alpha.yaml",
        """\
        id: alpha
        name: Alpha Raise
        summary: Rise onto the balls of your feet, then lower slowly.
        equipment: [none]
        muscles: [gastrocnemius, soleus]
        description:
          - A simple calf raise on flat ground.
        instructions:
          - Stand tall with your feet hip-width apart.
        tips:
          - Keep the weight over the big toe.
        faq:
          - question: How often can I do this?
            answer: Three to five times a week.
            answer: Every day.  # line 15
        """,
    )

    (issue,) = issues_in(issues_of(content), alpha)

    assert_issue(issue, alpha, 15, "faq[0].answer", "duplicate key")


def test_empty_file(content: Path) -> None:
    """An empty exercise file is reported as empty."""
    alpha = write(content / "exercises" / "alpha.yaml", "")

    (issue,) = issues_in(issues_of(content), alpha)

    assert_issue(issue, alpha, 1, "", "is empty")


def test_file_whose_top_level_is_a_list(content: Path) -> None:
    """A file must be a mapping of fields; a top-level list is refused."""
    alpha = write(
        content / "exercises" / "alpha.yaml",
        """\
        - id: alpha
        - name: Alpha Raise
        """,
    )

    (issue,) = issues_in(issues_of(content), alpha)

    assert_issue(issue, alpha, 1, "", "must be a mapping of fields")


def test_file_that_is_not_utf8(content: Path) -> None:
    """A Latin-1 file is refused with the byte offset of the first bad byte (there is no line)."""
    alpha = content / "exercises" / "alpha.yaml"
    alpha.write_bytes("id: alpha\nname: Alpha Rais\u00e9\n".encode("latin-1"))

    (issue,) = issues_in(issues_of(content), alpha)

    assert_issue(issue, alpha, None, "", "is not UTF-8 text")
    assert "at byte 26" in issue.message  # len("id: alpha\nname: Alpha Rais")


# --- 18. missing files -----------------------------------------------------------------------------------------------


def test_missing_program_file(content: Path) -> None:
    """Without ``program.yaml`` there is nothing to serve; it is reported as missing."""
    program = content / "program.yaml"
    program.unlink()

    (issue,) = issues_of(content)

    assert issue == ContentIssue(program, None, "", "is missing")
    assert str(issue) == f"{program}: is missing"


def test_missing_exercises_folder(content: Path) -> None:
    """Without ``exercises/`` the folder is reported, and the program's exercises are unknown."""
    shutil.rmtree(content / "exercises")

    issues = issues_of(content)

    assert_issue(issues[0], content / "exercises", None, "", "is missing")
    assert [(issue.path, issue.line, issue.field) for issue in issues[1:]] == [
        (content / "program.yaml", 3, "rotation[0]"),
        (content / "program.yaml", 3, "rotation[1]"),
    ]


# --- 19. every problem in one pass -----------------------------------------------------------------------------------


def test_problems_in_several_files_are_reported_together(content: Path) -> None:
    """One ContentError lists the problems of every file, not only the first found."""
    alpha = write(content / "exercises" / "alpha.yaml", alpha_with(tips="tips: []  # line 11\n"))
    beta = write(
        content / "exercises" / "beta.yaml",
        """\
        id: beta
        name: Beta Hold
        equipment: [a wall]
        muscles: [soleus]
        description:
          - An isometric hold at the top of a calf raise.
        instructions:
          - Rise onto the balls of your feet.
        tips:
          - Keep a hand on the wall for balance.
        faq:
          - question: What if my calves cramp?
            answer: "   "  # line 13
        """,
    )
    program = content / "program.yaml"
    text = program.read_text(encoding="utf-8")
    program.write_text(text.replace("from_week: 3", 'from_week: "3"'), encoding="utf-8")

    issues = issues_of(content)

    assert sorted((str(issue.path), issue.line, issue.field) for issue in issues) == [
        (str(alpha), 11, "tips"),
        (str(beta), 1, "summary"),
        (str(beta), 13, "faq[0].answer"),
        (str(program), 12, "stages[1].from_week"),
    ]


def test_too_long_message_is_reported_with_problems_in_other_files(content: Path) -> None:
    """A too-long FAQ answer in beta is reported in the same run as a misspelt key in alpha."""
    write(content / "exercises" / "alpha.yaml", alpha_with(tips="tipps: [Keep it slow.]\n"))
    beta = content / "exercises" / "beta.yaml"
    text = beta.read_text(encoding="utf-8")
    beta.write_text(text.replace("Stop, stretch gently and shorten the next hold.", "x" * 5000), encoding="utf-8")

    issues = issues_of(content)

    assert any(issue.path == beta and issue.field == "faq[0].answer" for issue in issues), issues


def test_invalid_exercise_file_is_not_also_reported_as_missing(content: Path) -> None:
    """A broken ``alpha.yaml`` is reported in that file only; program.yaml does not claim it does not exist."""
    alpha = write(content / "exercises" / "alpha.yaml", alpha_with(tips="tips: []\n"))

    issues = issues_of(content)

    assert [issue.path for issue in issues] == [alpha]


# --- friendlier messages for YAML traps, and repeated entries ---------------------------------------------------------


def test_a_repeated_tip_is_refused(content: Path) -> None:
    """Two equal tips (ignoring case and spacing) would break the rotation; the second is reported."""
    alpha = write(
        content / "exercises" / "alpha.yaml",
        alpha_with(tips="tips:\n  - Keep it slow.\n  - keep it  SLOW.\n"),
    )

    (issue,) = issues_of(content)

    assert_issue(issue, alpha, 13, "tips[1]", "repeats tips[0]")


def test_yaml_no_is_explained_as_a_yes_or_no_value(content: Path) -> None:
    """``equipment: [no]`` is YAML's false, not the word; the message says to quote it."""
    alpha = content / "exercises" / "alpha.yaml"
    alpha.write_text(alpha.read_text(encoding="utf-8").replace("equipment: [none]", "equipment: [no]"))

    (issue,) = issues_of(content)

    assert_issue(issue, alpha, 4, "equipment[0]", "put this text in quotes")


def test_an_empty_list_item_is_blank(content: Path) -> None:
    """A bare ``-`` is an empty entry, reported as blank rather than as a type error."""
    alpha = write(content / "exercises" / "alpha.yaml", alpha_with(tips="tips:\n  - Keep it slow.\n  -\n"))

    (issue,) = issues_of(content)

    assert_issue(issue, alpha, 13, "tips[1]", "must not be blank")
