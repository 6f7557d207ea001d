"""Events of the data service: rosters, contacts (restricted), assessments, class reports."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from aptt_contracts.bounds import (
    MAX_IDS,
    MAX_LANGUAGES,
    Code,
    Email,
    Id,
    IdList,
    Label,
    LanguageTag,
    PersonName,
    Phone,
    TimeZoneName,
)
from aptt_contracts.envelope import EventModel
from aptt_contracts.skills import GradeBenchmark

ROSTER = "aptt.data.roster.v1"
CONTACTS = "aptt.data.contacts.v1"
ASSESSMENTS = "aptt.data.assessments.v1"
REPORTS = "aptt.data.reports.v1"
PRIVATE_NUMBERS = "aptt.data.private-numbers.v1"
SKILLS = "aptt.data.skills.v1"


class SchoolUpserted(EventModel):
    event_type = "org.aptt.data.school.upserted.v1"
    topic = ROSTER
    subject_field = "school_id"

    school_id: Id
    timezone: TimeZoneName = Field(
        description="IANA time zone used for display, reminders, quiet hours"
    )
    language: LanguageTag = Field(
        default="en", description="BCP 47 tag of the school's main language"
    )


class ClassroomUpserted(EventModel):
    event_type = "org.aptt.data.classroom.upserted.v1"
    topic = ROSTER
    subject_field = "classroom_id"

    classroom_id: Id
    school_id: Id
    grade: int | None = Field(default=None, ge=0, le=12, description="0 is kindergarten")
    teacher_ids: IdList
    student_ids: IdList


class ClassroomRemoved(EventModel):
    event_type = "org.aptt.data.classroom.removed.v1"
    topic = ROSTER
    subject_field = "classroom_id"

    classroom_id: Id
    school_id: Id


class StudentUpserted(EventModel):
    event_type = "org.aptt.data.student.upserted.v1"
    topic = ROSTER
    subject_field = "student_id"

    student_id: Id
    school_id: Id
    grade: int | None = Field(default=None, ge=0, le=12)
    guardian_ids: IdList


class StudentRemoved(EventModel):
    event_type = "org.aptt.data.student.removed.v1"
    topic = ROSTER
    subject_field = "student_id"

    student_id: Id
    school_id: Id


class GuardianContactUpdated(EventModel):
    """Restricted: names and contact points. Only notify may read this topic."""

    event_type = "org.aptt.data.guardian-contact.updated.v1"
    topic = CONTACTS
    subject_field = "guardian_id"

    guardian_id: Id
    given_name: PersonName
    family_name: PersonName
    preferred_language: LanguageTag = Field(description="BCP 47 tag, e.g. en, es, vi")
    email: Email | None = None
    phone: Phone | None = Field(default=None, description="E.164")
    student_ids: IdList
    school_ids: IdList
    # Added for the countdown to kindergarten (optional: older producers leave it out).
    student_birth_dates: dict[Id, date] = Field(
        default_factory=dict,
        max_length=MAX_IDS,
        description="Birth dates of the guardian's students, by student id, where the SIS "
        "gives them: notify matches incoming kindergarten families with them",
    )


class AssessmentResultRecorded(EventModel):
    event_type = "org.aptt.data.assessment-result.recorded.v1"
    topic = ASSESSMENTS
    subject_field = "student_id"

    result_id: Id
    student_id: Id
    school_id: Id
    skill_code: Code
    score: float
    assessed_on: date


class ClassReportPublished(EventModel):
    """The anonymous class chart of one team meeting: counts per band, no identities."""

    event_type = "org.aptt.data.class-report.published.v1"
    topic = REPORTS
    subject_field = "report_id"

    report_id: Id
    meeting_id: Id
    classroom_id: Id
    school_id: Id
    skill_code: Code
    benchmark: float | None
    student_count: int = Field(ge=0)
    scored_count: int = Field(ge=0)
    suppressed: bool
    suppressed_reason: Code | None = Field(
        default=None, description="A code: too-few-scores or no-benchmark"
    )
    bands: dict[Literal["well_below", "below", "at", "above"], int] = Field(max_length=4)
    previous_report_id: Id | None = Field(
        default=None, description="The classroom's previous report on the skill, if any"
    )
    compared_count: int | None = Field(
        default=None, ge=0, description="Students with a score in this and the previous report"
    )
    median_growth: float | None = Field(
        default=None, description="Median score change since the previous report (not suppressed)"
    )


class PrivateNumberAssigned(EventModel):
    """Restricted: which student has which private number in one class report."""

    event_type = "org.aptt.data.private-number.assigned.v1"
    topic = PRIVATE_NUMBERS
    subject_field = "student_id"

    report_id: Id
    meeting_id: Id
    classroom_id: Id
    student_id: Id
    guardian_ids: IdList
    number: int = Field(ge=1)


class SkillDefined(EventModel):
    """A district's own skill (built-in skills are in aptt_contracts.skills)."""

    event_type = "org.aptt.data.skill.defined.v1"
    topic = SKILLS
    subject_field = "skill_code"

    skill_code: Code
    name: dict[LanguageTag, Label] = Field(max_length=MAX_LANGUAGES)
    unit: dict[LanguageTag, Label] = Field(max_length=MAX_LANGUAGES)
    scale_min: float
    scale_max: float
    higher_is_better: bool = True
    benchmarks: list[GradeBenchmark] = Field(max_length=13, description="one per grade")


# Countdown to kindergarten (docs/decisions/0220): families whose child starts kindergarten
# before the SIS knows the child. Names, contacts and birth dates: restricted, notify only.
KINDERGARTEN = "aptt.data.kindergarten.v1"


class IncomingGuardian(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    given_name: PersonName | None = Field(default=None, max_length=100)
    phone: Phone | None = Field(default=None, description="E.164")
    email: Email | None = Field(default=None, max_length=254)
    language: LanguageTag = Field(description="BCP 47 tag, e.g. en, es, so")


class IncomingFamilyUpserted(EventModel):
    """Restricted: an incoming kindergarten family, created or changed by the district."""

    event_type = "org.aptt.data.incoming-family.upserted.v1"
    topic = KINDERGARTEN
    subject_field = "family_id"

    family_id: Id
    school_id: Id = Field(description="the school of interest")
    child_first_name: str = Field(max_length=100)
    birth_date: date
    guardians: list[IncomingGuardian] = Field(min_length=1, max_length=2)


class IncomingFamilyRemoved(EventModel):
    """The district removed an incoming family: no more countdown messages."""

    event_type = "org.aptt.data.incoming-family.removed.v1"
    topic = KINDERGARTEN
    subject_field = "family_id"

    family_id: Id
    school_id: Id
