"""Outcome figures, from attendance, goals and results, with the privacy rules that keep
every figure aggregate (decisions 0230, 0231). No I/O.

A family is a student's guardians: a family attended a meeting when at least one of the
student's guardians was present. Attendance rates are families attended over families in
the class, summed over meetings (a family counts once per meeting).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

REFERENCE_RATE = 0.92
RELATIONSHIPS = ("mother", "father", "grandparent", "other")


# -- privacy -----------------------------------------------------------------------------


def suppress(cells: Mapping[str, int], minimum: int) -> dict[str, int | None]:
    """Hide every count under the minimum (primary suppression) and, when that hides only one
    cell of a group whose total is shown, the smallest other cell too (complementary), so a
    hidden count is never the total minus the shown ones."""
    hidden = {key for key, n in cells.items() if n < minimum}
    if len(hidden) == 1 and len(cells) > 1:
        _, smallest = min((n, key) for key, n in cells.items() if key not in hidden)
        hidden.add(smallest)
    return {key: (None if key in hidden else n) for key, n in cells.items()}


def _shown(count: int, minimum: int) -> int | None:
    return count if count >= minimum else None


def rate(part: int | None, whole: int) -> float | None:
    return None if part is None or whole == 0 else round(part / whole, 4)


# -- attendance --------------------------------------------------------------------------


@dataclass(frozen=True)
class MeetingAttendance:
    """One meeting's summary, as the data service keeps it from attendance events."""

    meeting_id: str
    classroom_id: str
    school_id: str
    starts_on: date
    families_in_class: int
    families_attended: int
    guardians: Mapping[str, int]  # relationship -> guardians present


@dataclass(frozen=True)
class AttendanceRow:
    key: str  # a meeting, classroom or school id, or a month (YYYY-MM)
    meetings: int
    families: int  # families in class, summed over meetings
    attended: int | None
    rate: float | None
    change: float | None = None  # from the row before (a classroom's meetings in order)


@dataclass(frozen=True)
class AttendanceFigures:
    minimum: int
    meetings: int
    families: int
    attended: int | None
    rate: float | None
    guardians_present: int | None
    by_relationship: dict[str, int | None]
    rows: list[AttendanceRow]
    trend: list[AttendanceRow]  # by month
    suppressed: bool
    reference_rate: float = REFERENCE_RATE
    fathers: FathersCompared | None = None


def _rows(groups: Mapping[str, list[MeetingAttendance]], minimum: int) -> list[AttendanceRow]:
    attended = {k: sum(m.families_attended for m in ms) for k, ms in groups.items()}
    shown = suppress(attended, minimum)
    rows = []
    for key, meetings in groups.items():
        families = sum(m.families_in_class for m in meetings)
        rows.append(
            AttendanceRow(key, len(meetings), families, shown[key], rate(shown[key], families))
        )
    return rows


def attendance(
    meetings: Sequence[MeetingAttendance], *, by: str, minimum: int
) -> AttendanceFigures:
    """The figures of a scope's meetings; rows by `meeting`, `classroom` or `school`."""
    ordered = sorted(meetings, key=lambda m: (m.starts_on, m.meeting_id))
    families = sum(m.families_in_class for m in ordered)
    attended = sum(m.families_attended for m in ordered)
    guardians: Counter[str] = Counter()
    for m in ordered:
        guardians.update(m.guardians)
    present = sum(guardians.values())
    suppressed = attended < minimum
    groups: dict[str, list[MeetingAttendance]] = {}
    months: dict[str, list[MeetingAttendance]] = {}
    for m in ordered:
        key = {"meeting": m.meeting_id, "classroom": m.classroom_id, "school": m.school_id}[by]
        groups.setdefault(key, []).append(m)
        months.setdefault(m.starts_on.strftime("%Y-%m"), []).append(m)
    rows = _rows(groups, minimum)
    if by == "meeting":
        rows = [
            AttendanceRow(r.key, r.meetings, r.families, r.attended, r.rate, _change(before, r))
            for before, r in zip([None, *rows], rows, strict=False)
        ]
    by_relationship = suppress({r: guardians.get(r, 0) for r in RELATIONSHIPS}, minimum)
    return AttendanceFigures(
        minimum=minimum,
        meetings=len(ordered),
        families=families,
        attended=None if suppressed else attended,
        rate=None if suppressed else rate(attended, families),
        guardians_present=None if present < minimum else present,
        by_relationship=by_relationship if present >= minimum else dict.fromkeys(RELATIONSHIPS),
        rows=[] if suppressed else rows,
        trend=[] if suppressed else _rows(months, minimum),
        suppressed=suppressed,
    )


@dataclass(frozen=True)
class FathersCompared:
    """Fathers among the guardians who came: at APTT meetings, and at the school's unlinked
    events whose turnout was counted by relationship."""

    meeting_fathers: int | None
    meeting_guardians: int | None
    meeting_share: float | None
    unlinked_events: int
    event_fathers: int | None
    event_guardians: int | None
    event_share: float | None


def _fathers(guardians: Mapping[str, int], minimum: int) -> tuple[int | None, int | None]:
    """Fathers and all guardians; fathers and the others are two parts of the total, so
    when either is under the minimum both are withheld (the total stays)."""
    total = sum(guardians.values())
    if total < minimum:
        return None, None
    fathers = guardians.get("father", 0)
    return suppress({"father": fathers, "others": total - fathers}, minimum)["father"], total


def fathers_compared(
    meetings: Sequence[MeetingAttendance],
    unlinked: Sequence[Mapping[str, int]],
    *,
    minimum: int,
) -> FathersCompared:
    at_meetings: Counter[str] = Counter()
    for m in meetings:
        at_meetings.update(m.guardians)
    at_events: Counter[str] = Counter()
    for counts in unlinked:
        at_events.update(counts)
    mf, mg = _fathers(at_meetings, minimum)
    ef, eg = _fathers(at_events, minimum)
    return FathersCompared(mf, mg, rate(mf, mg or 0), len(unlinked), ef, eg, rate(ef, eg or 0))


def _change(before: AttendanceRow | None, row: AttendanceRow) -> float | None:
    if before is None or before.rate is None or row.rate is None:
        return None
    return round(row.rate - before.rate, 4)


# -- goals -------------------------------------------------------------------------------


@dataclass(frozen=True)
class GoalRecord:
    goal_id: str
    student_id: str
    starts_on: date | None
    outcome: str | None  # met, not_met, or None while open


@dataclass(frozen=True)
class MeetingGoals:
    meeting_id: str
    starts_on: date
    families_attended: int | None
    families_with_goal: int | None


@dataclass(frozen=True)
class WeekPractice:
    week: str  # ISO week, 2026-W41
    families: int | None
    logs: int | None
    minutes: int | None


@dataclass(frozen=True)
class GoalFigures:
    minimum: int
    goals_set: int | None
    goals_closed: int | None
    goals_met: int | None
    met_rate: float | None
    meetings: list[MeetingGoals]
    practice: list[WeekPractice] = field(default_factory=list)


def goals(
    meetings: Sequence[tuple[str, date, frozenset[str]]],
    records: Iterable[GoalRecord],
    practice: Iterable[tuple[str, date, int]],
    *,
    window_days: int,
    minimum: int,
) -> GoalFigures:
    """Families with a goal set within `window_days` after each meeting they attended (the
    meeting's id, day and the students whose families came); goals set, closed and met;
    practice logged per ISO week (students, logs, minutes)."""
    goals_ = list(records)
    met = sum(1 for g in goals_ if g.outcome == "met")
    closed = sum(1 for g in goals_ if g.outcome is not None)
    counts = suppress({"met": met, "not_met": closed - met}, minimum)
    rows = []
    for meeting_id, day, attended in sorted(meetings, key=lambda m: (m[1], m[0])):
        with_goal = {
            g.student_id
            for g in goals_
            if g.student_id in attended
            and g.starts_on is not None
            and 0 <= (g.starts_on - day).days <= window_days
        }
        # Two counts of one meeting, not parts of a total: each is withheld on its own.
        rows.append(
            MeetingGoals(
                meeting_id, day, _shown(len(attended), minimum), _shown(len(with_goal), minimum)
            )
        )
    weeks: dict[str, list[tuple[str, int]]] = {}
    for student_id, day, minutes in practice:
        iso = day.isocalendar()
        weeks.setdefault(f"{iso.year}-W{iso.week:02d}", []).append((student_id, minutes))
    practice_rows = []
    for label, logs in sorted(weeks.items()):
        families = len({s for s, _ in logs})
        shown = families >= minimum
        practice_rows.append(
            WeekPractice(
                label,
                families if shown else None,
                len(logs) if shown else None,
                sum(m for _, m in logs) if shown else None,
            )
        )
    return GoalFigures(
        minimum=minimum,
        goals_set=len(goals_) if len(goals_) >= minimum else None,
        goals_closed=closed if closed >= minimum else None,
        goals_met=counts["met"] if closed >= minimum else None,
        met_rate=rate(counts["met"], closed) if closed >= minimum else None,
        meetings=rows,
        practice=practice_rows,
    )


# -- reach -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reach:
    minimum: int
    families: int
    visited: int | None
    visited_share: float | None
    visited_twice: int | None
    # Reach by personal notes and conferences comes when their events exist (decision 0230).
    not_yet_measured: tuple[str, ...] = ("personal_contact_30_days", "conference_booked")


def reach(families: frozenset[str], visits: Mapping[str, int], *, minimum: int) -> Reach:
    """Families visited at home at least once (and twice) in the year, of all families:
    visited and not visited are parts of the families, twice and once only parts of the
    visited, so each pair is withheld together."""
    visited = {s for s in families if visits.get(s, 0) >= 1}
    twice = {s for s in visited if visits[s] >= 2}
    shown = suppress({"visited": len(visited), "not": len(families) - len(visited)}, minimum)
    split = suppress({"twice": len(twice), "once": len(visited) - len(twice)}, minimum)
    count = shown["visited"]
    return Reach(
        minimum=minimum,
        families=len(families),
        visited=count,
        visited_share=rate(count, len(families)),
        visited_twice=split["twice"] if count is not None else None,
    )


# -- growth ------------------------------------------------------------------------------


def growth_of(results: Iterable[tuple[date, float]]) -> float | None:
    """A student's growth in a school year: the last score minus the first (two dates at
    least)."""
    ordered = sorted(results)
    if len(ordered) < 2 or ordered[0][0] == ordered[-1][0]:
        return None
    return ordered[-1][1] - ordered[0][1]


@dataclass(frozen=True)
class Group:
    n: int
    mean: float | None
    sd: float | None


@dataclass(frozen=True)
class GrowthComparison:
    minimum: int
    aptt: Group
    comparison: Group
    difference: float | None
    ci_low: float | None
    ci_high: float | None
    df: float | None
    suppressed: bool


def _group(values: Sequence[float], minimum: int) -> Group:
    n = len(values)
    if n < minimum or n < 2:
        return Group(n, None, None)
    mean = sum(values) / n
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))
    return Group(n, round(mean, 4), round(sd, 4))


def compare_growth(
    aptt: Sequence[float], comparison: Sequence[float], *, minimum: int
) -> GrowthComparison:
    """APTT minus comparison mean growth, with a 95% Welch confidence interval."""
    a, c = _group(aptt, minimum), _group(comparison, minimum)
    if a.mean is None or c.mean is None:
        return GrowthComparison(minimum, a, c, None, None, None, None, suppressed=True)
    na, nc = len(aptt), len(comparison)
    va = sum((v - sum(aptt) / na) ** 2 for v in aptt) / (na - 1)
    vc = sum((v - sum(comparison) / nc) ** 2 for v in comparison) / (nc - 1)
    difference = sum(aptt) / na - sum(comparison) / nc
    se2 = va / na + vc / nc
    if se2 == 0:
        return GrowthComparison(
            minimum,
            a,
            c,
            round(difference, 4),
            round(difference, 4),
            round(difference, 4),
            None,
            suppressed=False,
        )
    df = se2**2 / ((va / na) ** 2 / (na - 1) + (vc / nc) ** 2 / (nc - 1))
    half = t_quantile(0.975, df) * math.sqrt(se2)
    return GrowthComparison(
        minimum,
        a,
        c,
        round(difference, 4),
        round(difference - half, 4),
        round(difference + half, 4),
        round(df, 2),
        suppressed=False,
    )


def _beta_fraction(a: float, b: float, x: float) -> float:
    """The continued fraction of the regularized incomplete beta function (Lentz)."""
    tiny, qab, qap, qam = 1e-300, a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 300):
        m2 = 2 * m
        for aa in (
            m * (b - m) * x / ((qam + m2) * (a + m2)),
            -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2)),
        ):
            d = 1.0 + aa * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + aa / c
            c = c if abs(c) > tiny else tiny
            h *= d * c
        if abs(d * c - 1.0) < 1e-14:
            break
    return h


def _incomplete_beta(a: float, b: float, x: float) -> float:
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    front = math.exp(
        math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    )
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _beta_fraction(a, b, x) / a
    return 1.0 - front * _beta_fraction(b, a, 1.0 - x) / b


def t_cdf(t: float, df: float) -> float:
    """Student's t distribution function."""
    tail = 0.5 * _incomplete_beta(df / 2.0, 0.5, df / (df + t * t))
    return 1.0 - tail if t >= 0 else tail


def t_quantile(p: float, df: float) -> float:
    """The t value below which a share `p` (> 0.5) of the distribution lies, by bisection."""
    low, high = 0.0, 1000.0
    for _ in range(200):
        middle = (low + high) / 2
        if t_cdf(middle, df) < p:
            low = middle
        else:
            high = middle
    return (low + high) / 2
