"""The five SMART checks as pure rules: what passes, what fails, and what they suggest."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest
from aptt_goals.domain import (
    BUILT_IN_BY_CODE,
    BUILT_IN_SCALES,
    CheckContext,
    CheckResult,
    GoalDraft,
    PlannedActivity,
    SkillScale,
    is_smart,
    smart_checks,
)
from aptt_goals.domain.draft import MIN_DAYS, START_AHEAD_DAYS, START_GRACE_DAYS
from aptt_goals.domain.smart import (
    check_action_oriented,
    check_measurable,
    check_realistic,
    check_specific,
    check_time_bound,
)

TODAY = date(2026, 10, 15)
ORF = BUILT_IN_SCALES["orf"]  # grade 2 grows 1.5 words a week
READ_ALOUD = PlannedActivity(activity_code="orf-read-aloud", times=5, per="week", minutes=20)
# Lower is better: errors a minute, 2 fewer a week is typical.
ERRORS = SkillScale(
    code="reading-errors",
    name={"en": "Reading errors", "es": "Errores de lectura"},
    unit={"en": "errors", "es": "errores"},
    scale_min=0,
    scale_max=50,
    higher_is_better=False,
    growth_by_grade={2: 2.0},
)


def draft(**changes: object) -> GoalDraft:
    values: dict[str, object] = {
        "skill_code": "orf",
        "baseline": 50.0,
        "target": 60.0,
        "activities": (READ_ALOUD,),
        "starts_on": TODAY,
        "ends_on": TODAY + timedelta(days=56),  # 8 weeks
    }
    values.update(changes)
    return GoalDraft(**values)  # type: ignore[arg-type]


def context(**changes: object) -> CheckContext:
    values: dict[str, object] = {
        "skill": ORF,
        "grade": 2,
        "today": TODAY,
        "known_skills": list(BUILT_IN_SCALES.values()),
        "library": {"orf-read-aloud": BUILT_IN_BY_CODE["orf-read-aloud"]},
        "max_days": 60,
        "stretch": 1.5,
    }
    values.update(changes)
    return CheckContext(**values)  # type: ignore[arg-type]


def failed(check: CheckResult) -> str:
    assert not check.passed
    assert check.suggestion is not None, "a failed check says what to change"
    return check.reason.msgid


def test_a_good_goal_passes_all_five_checks_in_order() -> None:
    checks = smart_checks(draft(), context())
    assert [c.name for c in checks] == [
        "specific",
        "measurable",
        "action_oriented",
        "realistic",
        "time_bound",
    ]
    assert all(c.passed and c.suggestion is None for c in checks)
    assert is_smart(checks)


# -- specific ------------------------------------------------------------------------------


def test_specific_fails_for_a_skill_the_district_does_not_assess() -> None:
    check = check_specific(draft(skill_code="spelling"), context(skill=None))
    assert failed(check) == 'We do not know the skill "{code}".'
    assert check.suggestion is not None
    assert [n["en"] for n in check.suggestion.params["choices"]] == [  # type: ignore[index, union-attr]
        "Oral reading fluency",
        "Math fact fluency",
    ]


def test_specific_fails_for_an_activity_of_another_skill() -> None:
    flash_cards = BUILT_IN_BY_CODE["math-facts-flash-cards"]
    activity = PlannedActivity(activity_code=flash_cards.code, times=5, per="week")
    check = check_specific(
        draft(activities=(activity,)), context(library={flash_cards.code: flash_cards})
    )
    assert "practises another skill" in failed(check)


def test_unknown_skill_makes_measurable_and_realistic_fail_too() -> None:
    checks = smart_checks(draft(skill_code="spelling"), context(skill=None))
    assert [c.name for c in checks if not c.passed] == ["specific", "measurable", "realistic"]


# -- measurable ----------------------------------------------------------------------------


def test_measurable_needs_a_target() -> None:
    assert (
        failed(check_measurable(draft(target=None), context())) == "The goal has no target score."
    )


@pytest.mark.parametrize(
    ("target", "passes"), [(0.0, True), (250.0, True), (250.5, False), (-1.0, False)]
)
def test_measurable_target_must_be_on_the_scale(target: float, passes: bool) -> None:
    assert check_measurable(draft(target=target), context()).passed is passes


def test_measurable_needs_a_starting_score() -> None:
    check = check_measurable(draft(baseline=None), context())
    assert failed(check) == "We have no starting score for {skill} yet."


def test_measurable_starting_score_must_be_on_the_scale() -> None:
    assert "starting score" in failed(check_measurable(draft(baseline=300.0), context()))


# -- action oriented -----------------------------------------------------------------------


def test_action_oriented_needs_an_activity() -> None:
    assert failed(check_action_oriented(draft(activities=()), context())) == (
        "The goal has no home activity."
    )


@pytest.mark.parametrize(
    "activity",
    [
        PlannedActivity(description="read to grandma", times=None, per="week"),
        PlannedActivity(description="read to grandma", times=0, per="week"),
        PlannedActivity(description="read to grandma", times=3, per=None),
    ],
)
def test_action_oriented_needs_a_frequency(activity: PlannedActivity) -> None:
    check = check_action_oriented(draft(activities=(READ_ALOUD, activity)), context())
    assert failed(check) == "Activity {number} does not say how often."
    assert check.reason.params["number"] == 2


def test_action_oriented_needs_what_to_do() -> None:
    activity = PlannedActivity(times=3, per="week")
    assert failed(check_action_oriented(draft(activities=(activity,)), context())) == (
        "Activity {number} does not say what to do."
    )


def test_action_oriented_refuses_an_unknown_library_activity() -> None:
    activity = PlannedActivity(activity_code="no-such-activity", times=3, per="week")
    assert failed(check_action_oriented(draft(activities=(activity,)), context())) == (
        'We cannot find the activity "{code}".'
    )


@pytest.mark.parametrize(
    ("times", "per", "passes"),
    [
        (1, "day", True),
        (3, "day", True),
        (4, "day", False),
        (21, "week", True),
        (22, "week", False),
    ],
)
def test_action_oriented_refuses_plans_nobody_keeps_up(times: int, per: str, passes: bool) -> None:
    activity = PlannedActivity(description="flash cards", times=times, per=per)  # type: ignore[arg-type]
    assert check_action_oriented(draft(activities=(activity,)), context()).passed is passes


def test_a_described_activity_of_the_family_is_enough() -> None:
    activity = PlannedActivity(description="read the recipe aloud", times=2, per="week")
    assert check_action_oriented(draft(activities=(activity,)), context()).passed


# -- realistic -----------------------------------------------------------------------------


def test_realistic_limit_is_growth_times_weeks_times_stretch() -> None:
    # Grade 2: 1.5 words a week x 8 weeks x 1.5 = 18 words above the baseline of 50.
    assert check_realistic(draft(target=68.0), context()).passed
    check = check_realistic(draft(target=68.5), context())
    assert "more than children usually grow" in failed(check)
    assert check.suggestion is not None
    assert check.suggestion.params["limit"] == 68.0


def test_realistic_limit_follows_the_stretch_setting() -> None:
    assert not check_realistic(draft(target=68.0), context(stretch=1.0)).passed
    assert check_realistic(draft(target=62.0), context(stretch=1.0)).passed


def test_realistic_limit_uses_the_grade_growth() -> None:
    # Grade 5 grows 0.8 a week: 0.8 x 8 x 1.5 = 9.6.
    assert check_realistic(draft(target=59.6), context(grade=5)).passed
    assert not check_realistic(draft(target=59.7), context(grade=5)).passed


def test_realistic_uses_the_nearest_grade_when_the_grade_has_no_benchmark() -> None:
    # Grade 6 is not in the ORF table: grade 5's 0.8 a week is the nearest.
    assert check_realistic(draft(target=59.6), context(grade=6)).passed
    assert not check_realistic(draft(target=59.7), context(grade=6)).passed


def test_realistic_suggests_a_whole_number_within_reach() -> None:
    # 1.1 a week (grade 3) x 8 x 1.5 = 13.2 -> at most 63.2, suggested as 63.
    check = check_realistic(draft(target=70.0), context(grade=3))
    assert check.suggestion is not None
    assert check.suggestion.params["limit"] == 63.0


@pytest.mark.parametrize("target", [50.0, 49.0, 0.0])
def test_realistic_target_must_be_above_the_baseline(target: float) -> None:
    check = check_realistic(draft(target=target), context())
    assert failed(check) == "The target {target} is not higher than the starting score {baseline}."
    # The example is a typical 8 weeks' growth: 50 + 1.5 x 8.
    assert check.suggestion is not None
    assert check.suggestion.params["example"] == 62.0


def test_realistic_for_a_skill_where_lower_is_better() -> None:
    lower = context(skill=ERRORS, library={})
    goal = draft(skill_code="reading-errors", baseline=30.0, activities=())
    # 2 fewer a week x 8 x 1.5 = 24 fewer: 6 is the lowest realistic target.
    assert check_realistic(replace(goal, target=6.0), lower).passed
    too_far = check_realistic(replace(goal, target=5.0), lower)
    assert too_far.suggestion is not None
    assert too_far.suggestion.params["limit"] == 6.0
    assert too_far.suggestion.msgid.endswith("or more, or give the goal more time.")
    assert "not lower" in failed(check_realistic(replace(goal, target=31.0), lower))


def test_realistic_without_growth_figures_only_checks_the_direction() -> None:
    no_growth = SkillScale(
        code="letters",
        name={"en": "Letters"},
        unit={"en": "letters"},
        scale_min=0,
        scale_max=100,
        higher_is_better=True,
        growth_by_grade={},
    )
    assert check_realistic(draft(target=99.0), context(skill=no_growth)).passed
    assert not check_realistic(draft(target=40.0), context(skill=no_growth)).passed


def test_realistic_cannot_judge_without_baseline_target_or_dates() -> None:
    assert not check_realistic(draft(baseline=None), context()).passed
    assert not check_realistic(draft(target=None), context()).passed
    assert not check_realistic(draft(ends_on=None), context()).passed
    assert not check_realistic(draft(ends_on=TODAY), context()).passed


def test_a_goal_longer_than_allowed_is_judged_on_the_longest_allowed() -> None:
    # 1.5 a week x 60/7 weeks x 1.5 = 19.3: 69 passes over 60 days, 75 does not even over 90.
    assert check_realistic(draft(target=69.0, ends_on=TODAY + timedelta(days=90)), context()).passed
    check = check_realistic(draft(target=75.0, ends_on=TODAY + timedelta(days=90)), context())
    assert check.reason.params["days"] == 60


def test_the_target_ceiling_is_the_top_of_the_scale() -> None:
    near_top = draft(baseline=245.0, target=250.0)
    assert check_realistic(near_top, context()).passed


# -- time bound ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("days", "passes"),
    [(MIN_DAYS - 1, False), (MIN_DAYS, True), (60, True), (61, False), (0, False), (-3, False)],
)
def test_time_bound_length_limits(days: int, passes: bool) -> None:
    check = check_time_bound(draft(ends_on=TODAY + timedelta(days=days)), context())
    assert check.passed is passes


def test_time_bound_says_the_latest_end_date() -> None:
    check = check_time_bound(draft(ends_on=TODAY + timedelta(days=75)), context())
    assert failed(check) == "The goal ends {days} days after it starts, more than {max_days} days."
    assert check.suggestion is not None
    assert check.suggestion.params["latest"] == TODAY + timedelta(days=60)


def test_time_bound_follows_the_district_maximum() -> None:
    six_weeks = context(max_days=42)
    assert check_time_bound(draft(ends_on=TODAY + timedelta(days=42)), six_weeks).passed
    assert not check_time_bound(draft(ends_on=TODAY + timedelta(days=43)), six_weeks).passed


def test_time_bound_needs_an_end_date() -> None:
    check = check_time_bound(draft(ends_on=None), context())
    assert failed(check) == "The goal has no end date."


@pytest.mark.parametrize(
    ("start_offset", "passes"),
    [
        (-START_GRACE_DAYS, True),
        (-START_GRACE_DAYS - 1, False),
        (START_AHEAD_DAYS, True),
        (START_AHEAD_DAYS + 1, False),
    ],
)
def test_time_bound_start_is_about_now(start_offset: int, passes: bool) -> None:
    start = TODAY + timedelta(days=start_offset)
    check = check_time_bound(draft(starts_on=start, ends_on=start + timedelta(days=30)), context())
    assert check.passed is passes


def test_several_failures_are_reported_each_in_its_check() -> None:
    bad = draft(
        target=40.0,
        activities=(PlannedActivity(description="reading", times=None, per=None),),
        ends_on=TODAY + timedelta(days=90),
    )
    checks = {c.name: c for c in smart_checks(bad, context())}
    assert {name for name, c in checks.items() if not c.passed} == {
        "action_oriented",
        "realistic",
        "time_bound",
    }
    assert not is_smart(list(checks.values()))
