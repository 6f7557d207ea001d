"""RSVPs and attendance of a team meeting, and the figures a school watches.

A family is a student's guardians: a class of 24 students has 24 families, and a family
attended when at least one of the student's guardians was there. The model's reference
point is 92% of families.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Literal, get_args

from aptt_contracts.scheduling import Relationship
from aptt_platform.errors import DomainError

from aptt_scheduling.domain.roster import ClassList

REFERENCE_RATE = 0.92
RELATIONSHIPS: tuple[str, ...] = get_args(Relationship)


@dataclass(frozen=True)
class Rsvp:
    meeting_id: str
    student_id: str
    guardian_id: str
    attending: bool
    interpreter_language: str | None
    childcare_count: int


@dataclass(frozen=True)
class AttendanceRecord:
    student_id: str
    guardian_id: str
    relationship: Relationship
    present: bool


def check_attendance(classes: ClassList, records: list[AttendanceRecord]) -> None:
    """Every record names a student of the class and one of that student's guardians.

    All problems are reported at once and nothing is recorded while any remains, so a
    teacher fixes the sheet and sends it again.
    """
    problems: list[dict[str, object]] = []
    seen: set[tuple[str, str]] = set()
    for index, record in enumerate(records):
        student = classes.student(record.student_id)
        pair = (record.student_id, record.guardian_id)
        if student is None:
            problems.append({"record": index, "reason": "the student is not in this class"})
        elif record.guardian_id not in student.guardian_ids:
            problems.append({"record": index, "reason": "not a guardian of that student"})
        elif pair in seen:
            problems.append({"record": index, "reason": "the same guardian twice"})
        seen.add(pair)
    if problems:
        raise DomainError(
            f"{len(problems)} attendance record(s) need fixing; nothing was recorded",
            code="bad-attendance",
            records=problems,
        )


RateBand = Literal["at-or-above-reference", "below-reference", "no-families"]


@dataclass(frozen=True)
class AttendanceSummary:
    families_in_class: int
    families_attended: int
    rate: float | None
    reference_rate: float
    band: RateBand
    guardians_present: int
    by_relationship: dict[str, int]
    families_rsvp_attending: int
    interpreter_requests: dict[str, int]
    childcare_children: int


def summarize(
    classes: ClassList, records: list[AttendanceRecord], rsvps: list[Rsvp]
) -> AttendanceSummary:
    """Families attended over families in the class, and who came."""
    present = [r for r in records if r.present]
    # A student who has left the class since the meeting still counts as a family invited.
    families = classes.student_ids | {r.student_id for r in records}
    attended = {r.student_id for r in present}
    rate = round(len(attended) / len(families), 4) if families else None
    band: RateBand = (
        "no-families"
        if rate is None
        else "at-or-above-reference"
        if rate >= REFERENCE_RATE
        else "below-reference"
    )
    counts = Counter(str(r.relationship) for r in present)
    coming = [r for r in rsvps if r.attending]
    return AttendanceSummary(
        families_in_class=len(families),
        families_attended=len(attended),
        rate=rate,
        reference_rate=REFERENCE_RATE,
        band=band,
        guardians_present=len(present),
        by_relationship={name: counts.get(name, 0) for name in RELATIONSHIPS},
        families_rsvp_attending=len({r.student_id for r in coming}),
        interpreter_requests=dict(
            Counter(r.interpreter_language for r in coming if r.interpreter_language)
        ),
        childcare_children=_childcare(coming),
    )


def _childcare(coming: list[Rsvp]) -> int:
    # Two guardians of one child may both answer: count the family's children once.
    per_family: dict[str, int] = {}
    for rsvp in coming:
        per_family[rsvp.student_id] = max(per_family.get(rsvp.student_id, 0), rsvp.childcare_count)
    return sum(per_family.values())
