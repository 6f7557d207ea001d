"""A school's family events of a year and the consolidation view (WestEd's aim: about one
learning-linked event a month instead of thirty unconnected ones).

A school records its own events (a bake sale, a concert, science night); its team meetings
and conference windows come from scheduling's own records. Team meetings of one round (one
calendar window, or one day when a meeting has no window) count as one school event, however
many classrooms meet: families see one "October team meeting".
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime

from aptt_contracts.scheduling import Relationship
from aptt_platform.errors import DomainError

AIM_PER_YEAR = 12
TEAM_MEETING = "team_meeting"
CONFERENCE_WINDOW = "conference_window"
# Kinds a school cannot give its own events: they come from scheduling's records.
OWN_KINDS = frozenset({TEAM_MEETING, CONFERENCE_WINDOW})


@dataclass
class FamilyEvent:
    """An event a school recorded, with its families attending once known."""

    family_event_id: str
    district_id: str
    school_id: str
    title: str
    kind: str
    learning_linked: bool
    on: date
    created_by: str
    created_at: datetime
    updated_at: datetime
    families_attending: int | None = None
    by_relationship: dict[Relationship, int] | None = None


def check_kind(kind: str) -> None:
    if kind in OWN_KINDS:
        raise DomainError(
            "team meetings and conference windows appear on their own; give another kind",
            code="reserved-kind",
        )


def check_attendance(families: int, by_relationship: dict[Relationship, int] | None) -> None:
    """Guardians by relationship are people, families are households: a family sends one or
    more, so the people counted can never be fewer than the families."""
    if by_relationship is not None and sum(by_relationship.values()) < families:
        raise DomainError(
            "guardians by relationship add up to fewer than the families attending",
            code="relationship-below-families",
        )


@dataclass(frozen=True)
class CalendarItem:
    """One event of the school's year as the consolidation view counts it."""

    source: str  # "school" (recorded), "team_meeting", "conference_window"
    item_id: str
    kind: str
    learning_linked: bool
    on: date
    families_attending: int | None
    title: str | None = None
    # A team-meeting round's days, one per classroom meeting: each is a day families meet.
    days: tuple[date, ...] = ()


@dataclass(frozen=True)
class Month:
    month: str  # YYYY-MM
    linked: int
    unlinked: int
    crowded: bool

    @property
    def total(self) -> int:
        return self.linked + self.unlinked


@dataclass(frozen=True)
class Candidate:
    """An unlinked event a school could merge into an APTT meeting or cut, and why."""

    item: CalendarItem
    reasons: tuple[str, ...]  # "clashes-with-team-meeting", "next-to-team-meeting", "few-families"
    nearest_team_meeting: date | None


@dataclass(frozen=True)
class Rules:
    """What a crowded month, a neighbour and few families mean (decision 0330)."""

    crowded_month: int = 3
    near_days: int = 7
    few_families: int = 10


@dataclass(frozen=True)
class Consolidation:
    school_id: str
    school_year: str
    aim: int
    total: int
    linked: int
    unlinked: int
    months: list[Month]
    candidates: list[Candidate]
    items: list[CalendarItem] = field(repr=False)


def year_months(first_year: int, start_month: int) -> list[str]:
    months = []
    for offset in range(12):
        index = start_month - 1 + offset
        months.append(f"{first_year + index // 12:04d}-{index % 12 + 1:02d}")
    return months


def consolidate(
    school_id: str,
    school_year: str,
    months: list[str],
    items: list[CalendarItem],
    rules: Rules,
) -> Consolidation:
    linked = Counter(i.on.strftime("%Y-%m") for i in items if i.learning_linked)
    unlinked = Counter(i.on.strftime("%Y-%m") for i in items if not i.learning_linked)
    month_rows = [
        Month(m, linked[m], unlinked[m], linked[m] + unlinked[m] > rules.crowded_month)
        for m in months
    ]
    meetings = sorted({d for i in items if i.kind == TEAM_MEETING for d in (i.days or (i.on,))})
    candidates = []
    for item in sorted(items, key=lambda i: (i.on, i.item_id)):
        if item.learning_linked:
            continue
        nearest = min(meetings, key=lambda d: abs((d - item.on).days), default=None)
        gap = abs((nearest - item.on).days) if nearest else None
        reasons = []
        if gap == 0:
            reasons.append("clashes-with-team-meeting")
        elif gap is not None and gap <= rules.near_days:
            reasons.append("next-to-team-meeting")
        if item.families_attending is not None and item.families_attending < rules.few_families:
            reasons.append("few-families")
        if reasons:
            candidates.append(Candidate(item, tuple(reasons), nearest))
    return Consolidation(
        school_id=school_id,
        school_year=school_year,
        aim=AIM_PER_YEAR,
        total=len(items),
        linked=sum(linked.values()),
        unlinked=sum(unlinked.values()),
        months=month_rows,
        candidates=candidates,
        items=sorted(items, key=lambda i: (i.on, i.item_id)),
    )


def consolidation_csv(view: Consolidation) -> str:
    """One row per event of the year, with the month and the candidate's reasons."""
    reasons = {c.item.item_id: ";".join(c.reasons) for c in view.candidates}
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(
        [
            "month",
            "date",
            "source",
            "kind",
            "title",
            "learning_linked",
            "families_attending",
            "candidate",
        ]
    )
    for item in view.items:
        writer.writerow(
            [
                item.on.strftime("%Y-%m"),
                item.on.isoformat(),
                item.source,
                item.kind,
                item.title or "",
                "yes" if item.learning_linked else "no",
                "" if item.families_attending is None else item.families_attending,
                reasons.get(item.item_id, ""),
            ]
        )
    return out.getvalue()
