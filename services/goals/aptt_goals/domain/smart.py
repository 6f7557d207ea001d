"""The five SMART checks of a goal draft: pure functions, each saying why and what to change.

Each check returns a `CheckResult` whether it passes or not, so a guardian sees all five.
When a check finds several problems it reports the first, in the order a guardian would fix
them; the next check-up shows the next one.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import timedelta

from aptt_goals.domain.draft import (
    EPSILON,
    MAX_TIMES,
    MIN_DAYS,
    START_AHEAD_DAYS,
    START_GRACE_DAYS,
    CheckContext,
    CheckName,
    CheckResult,
    GoalDraft,
)
from aptt_goals.domain.skills import SkillScale
from aptt_goals.domain.text import Param, Text, text


def _passed(name: CheckName, reason: Text) -> CheckResult:
    return CheckResult(name, True, reason)


def _failed(name: CheckName, reason: Text, suggestion: Text) -> CheckResult:
    return CheckResult(name, False, reason, suggestion)


def check_specific(draft: GoalDraft, ctx: CheckContext) -> CheckResult:
    """One skill this district assesses, and activities that practise that skill."""
    skill = ctx.skill
    if skill is None:
        return _failed(
            "specific",
            text('We do not know the skill "{code}".', code=draft.skill_code),
            text(
                "Choose one skill from the list: {choices}.",
                choices=[s.name for s in ctx.known_skills],
            ),
        )
    for activity in draft.activities:
        found = ctx.library.get(activity.activity_code or "")
        if found is not None and found.skill_code != skill.code:
            return _failed(
                "specific",
                text(
                    'The activity "{activity}" practises another skill, not {skill}.',
                    activity=found.title,
                    skill=skill.name,
                ),
                text("Choose activities for {skill}, or describe your own.", skill=skill.name),
            )
    return _passed("specific", text("The goal is about one skill: {skill}.", skill=skill.name))


def check_measurable(draft: GoalDraft, ctx: CheckContext) -> CheckResult:
    """A target and a starting score, both on the skill's scale."""
    skill = ctx.skill
    if skill is None:
        return _failed(
            "measurable",
            text("We cannot check the target until the goal has a skill we know."),
            text("Choose the skill first."),
        )
    scale: dict[str, Param] = {"skill": skill.name, "min": skill.scale_min, "max": skill.scale_max}
    if draft.target is None:
        return _failed(
            "measurable",
            text("The goal has no target score."),
            text("Add the score you want your child to reach, in {unit}.", unit=skill.unit),
        )
    if not skill.on_scale(draft.target):
        return _failed(
            "measurable",
            text(
                "The target {target} is not on the {skill} scale, which goes from {min} to {max}.",
                target=draft.target,
                **scale,
            ),
            text("Choose a target between {min} and {max}.", **scale),
        )
    if draft.baseline is None:
        return _failed(
            "measurable",
            text("We have no starting score for {skill} yet.", skill=skill.name),
            text("Enter your child's latest score, or ask the teacher for it."),
        )
    if not skill.on_scale(draft.baseline):
        return _failed(
            "measurable",
            text(
                "The starting score {baseline} is not on the {skill} scale, "
                "which goes from {min} to {max}.",
                baseline=draft.baseline,
                **scale,
            ),
            text("Enter a starting score between {min} and {max}.", **scale),
        )
    return _passed(
        "measurable",
        text(
            "The target is a score you can measure: {target} {unit}.",
            target=draft.target,
            unit=skill.unit,
        ),
    )


def check_action_oriented(draft: GoalDraft, ctx: CheckContext) -> CheckResult:
    """At least one home activity, each saying what to do and how often."""
    if not draft.activities:
        return _failed(
            "action_oriented",
            text("The goal has no home activity."),
            text(
                "Add at least one thing to do at home and how often, "
                "for example: read aloud 20 minutes, 5 times a week."
            ),
        )
    for number, activity in enumerate(draft.activities, start=1):
        if activity.activity_code is None and not activity.description:
            return _failed(
                "action_oriented",
                text("Activity {number} does not say what to do.", number=number),
                text("Choose an activity from the list or describe it in a few words."),
            )
        if activity.activity_code is not None and activity.activity_code not in ctx.library:
            return _failed(
                "action_oriented",
                text('We cannot find the activity "{code}".', code=activity.activity_code),
                text("Choose an activity from the list or describe your own."),
            )
        if not activity.times or activity.per is None:
            return _failed(
                "action_oriented",
                text("Activity {number} does not say how often.", number=number),
                text("Say how many times a day or a week, for example 5 times a week."),
            )
        if activity.times > MAX_TIMES[activity.per]:
            limit = MAX_TIMES[activity.per]
            reason = (
                text(
                    "Activity {number} is planned more than {limit} times a day.",
                    number=number,
                    limit=limit,
                )
                if activity.per == "day"
                else text(
                    "Activity {number} is planned more than {limit} times a week.",
                    number=number,
                    limit=limit,
                )
            )
            return _failed(
                "action_oriented",
                reason,
                text("Plan something your family can keep up, for example once a day."),
            )
    return _passed("action_oriented", text("The plan has home activities and says how often."))


def goal_days(draft: GoalDraft) -> int | None:
    """Length of the goal in days, or None when the dates do not make a period."""
    if draft.ends_on is None or draft.ends_on <= draft.starts_on:
        return None
    return (draft.ends_on - draft.starts_on).days


def max_gain(weekly_growth: float, days: int, stretch: float) -> float:
    """The largest change of score the Realistic check accepts over `days`."""
    return weekly_growth * (days / 7) * stretch


def reachable_target(skill: SkillScale, baseline: float, gain: float) -> float:
    """The furthest target within `gain` of the baseline, in the skill's direction, on scale."""
    if skill.higher_is_better:
        return min(baseline + gain, skill.scale_max)
    return max(baseline - gain, skill.scale_min)


def _round_toward_baseline(value: float, baseline: float, higher_is_better: bool) -> float:
    # Suggest a whole number when one fits between the baseline and the limit.
    if higher_is_better:
        whole = float(math.floor(value + EPSILON))
        return whole if whole > baseline else math.floor(value * 10 + EPSILON) / 10
    whole = float(math.ceil(value - EPSILON))
    return whole if whole < baseline else math.ceil(value * 10 - EPSILON) / 10


def check_realistic(draft: GoalDraft, ctx: CheckContext) -> CheckResult:
    """A target beyond the baseline, and within reach of typical growth in the time given."""
    skill = ctx.skill
    baseline, target = draft.baseline, draft.target
    if skill is None or baseline is None or target is None:
        return _failed(
            "realistic",
            text(
                "We cannot tell whether the target is within reach "
                "without a starting score and a target."
            ),
            text("Fill in the starting score and the target first."),
        )
    days = goal_days(draft)
    if days is None:
        return _failed(
            "realistic",
            text(
                "We cannot tell whether the target is within reach without a start and an end date."
            ),
            text("Fix the dates first."),
        )
    # A goal longer than allowed is judged on the longest allowed, so that following all
    # five suggestions at once gives a goal that passes.
    days = min(days, ctx.max_days)
    growth = skill.weekly_growth(ctx.grade)
    gain = max_gain(growth, days, ctx.stretch) if growth is not None else None
    beyond = target > baseline if skill.higher_is_better else target < baseline
    if not beyond:
        typical = (
            reachable_target(skill, baseline, max_gain(growth, days, 1.0))
            if growth is not None
            else None
        )
        example = (
            _round_toward_baseline(typical, baseline, skill.higher_is_better)
            if typical is not None
            else None
        )
        if skill.higher_is_better:
            reason = text(
                "The target {target} is not higher than the starting score {baseline}.",
                target=target,
                baseline=baseline,
            )
            suggestion = (
                text(
                    "Choose a target above {baseline}, for example {example}.",
                    baseline=baseline,
                    example=example,
                )
                if example is not None and example > baseline
                else text("Choose a target above {baseline}.", baseline=baseline)
            )
        else:
            reason = text(
                "The target {target} is not lower than the starting score {baseline}.",
                target=target,
                baseline=baseline,
            )
            suggestion = (
                text(
                    "Choose a target below {baseline}, for example {example}.",
                    baseline=baseline,
                    example=example,
                )
                if example is not None and example < baseline
                else text("Choose a target below {baseline}.", baseline=baseline)
            )
        return _failed("realistic", reason, suggestion)
    if gain is None or growth is None:
        return _passed(
            "realistic",
            text(
                "The target is beyond the starting score. "
                "We have no typical growth for this skill to compare with."
            ),
        )
    if abs(target - baseline) > gain + EPSILON:
        limit = _round_toward_baseline(
            reachable_target(skill, baseline, gain), baseline, skill.higher_is_better
        )
        return _failed(
            "realistic",
            text(
                "Going from {baseline} to {target} in {days} days is more than children "
                "usually grow: about {growth} {unit} a week.",
                baseline=baseline,
                target=target,
                days=days,
                growth=growth,
                unit=skill.unit,
            ),
            (
                text("Choose a target of {limit} or less, or give the goal more time.", limit=limit)
                if skill.higher_is_better
                else text(
                    "Choose a target of {limit} or more, or give the goal more time.", limit=limit
                )
            ),
        )
    return _passed(
        "realistic",
        text(
            "Going from {baseline} to {target} in {days} days is within reach.",
            baseline=baseline,
            target=target,
            days=days,
        ),
    )


def check_time_bound(draft: GoalDraft, ctx: CheckContext) -> CheckResult:
    """Starts about now, ends after at least two weeks and within the district's maximum."""
    start, end = draft.starts_on, draft.ends_on
    min_days = min(MIN_DAYS, ctx.max_days)
    earliest, latest = start + timedelta(days=min_days), start + timedelta(days=ctx.max_days)
    if start < ctx.today - timedelta(days=START_GRACE_DAYS):
        return _failed(
            "time_bound",
            text("The goal starts on {starts_on}, which has already passed.", starts_on=start),
            text("Start the goal today, {today}, or later.", today=ctx.today),
        )
    if start > ctx.today + timedelta(days=START_AHEAD_DAYS):
        return _failed(
            "time_bound",
            text("The goal starts more than {days} days from now.", days=START_AHEAD_DAYS),
            text("Start the goal within the next {days} days.", days=START_AHEAD_DAYS),
        )
    if end is None:
        return _failed(
            "time_bound",
            text("The goal has no end date."),
            text(
                "Choose an end date within {max_days} days, for example {example}.",
                max_days=ctx.max_days,
                example=latest,
            ),
        )
    days = (end - start).days
    if days <= 0:
        return _failed(
            "time_bound",
            text("The end date is not after the start date."),
            text(
                "Choose an end date between {earliest} and {latest}.",
                earliest=earliest,
                latest=latest,
            ),
        )
    if days > ctx.max_days:
        return _failed(
            "time_bound",
            text(
                "The goal ends {days} days after it starts, more than {max_days} days.",
                days=days,
                max_days=ctx.max_days,
            ),
            text("Choose an end date on or before {latest}.", latest=latest),
        )
    if days < min_days:
        return _failed(
            "time_bound",
            text("The goal lasts only {days} days, too short for practice to show.", days=days),
            text("Choose an end date on or after {earliest}.", earliest=earliest),
        )
    return _passed(
        "time_bound",
        text("The goal ends on {ends_on}, {days} days after it starts.", ends_on=end, days=days),
    )


def smart_checks(draft: GoalDraft, ctx: CheckContext) -> list[CheckResult]:
    """All five checks, in the order of the SMART acronym."""
    return [
        check_specific(draft, ctx),
        check_measurable(draft, ctx),
        check_action_oriented(draft, ctx),
        check_realistic(draft, ctx),
        check_time_bound(draft, ctx),
    ]


def is_smart(checks: Sequence[CheckResult]) -> bool:
    return all(check.passed for check in checks)
