"""Use cases of family events: a school records its events and their turnout, and sees its
year consolidated (decision 0330).

School admins reach their own schools, district admins every school of their district;
everyone else in the district gets 403, another district's school or event is not found.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from aptt_contracts.scheduling import FamilyEventTurnoutRecorded, Relationship
from aptt_platform import schoolyear
from aptt_platform.auth import Principal
from aptt_platform.deps import out_of_reach
from aptt_platform.errors import NotFound
from aptt_platform.mongo import UnitOfWork

from aptt_scheduling.domain import family_events as rules
from aptt_scheduling.domain.calendars import first_year, plan
from aptt_scheduling.domain.family_events import CalendarItem, Consolidation, FamilyEvent
from aptt_scheduling.domain.meetings import TeamMeeting, local_date
from aptt_scheduling.service.calendars import find_template, school_timezone
from aptt_scheduling.service.visit_access import oversees
from aptt_scheduling.settings import Config
from aptt_scheduling.store import calendars as calendar_store
from aptt_scheduling.store import family_events as store
from aptt_scheduling.store import roster


@dataclass(frozen=True)
class EventDraft:
    title: str
    kind: str
    learning_linked: bool
    on: date


async def _school_in_reach(uow: UnitOfWork, principal: Principal, school_id: str) -> None:
    if not await roster.school_is_known(uow, principal.district_id, school_id):
        raise NotFound("no such school in the roster", code="unknown-school")
    if not oversees(principal, school_id):
        raise out_of_reach(principal, "school")


async def record_event(
    uow: UnitOfWork, *, principal: Principal, school_id: str, draft: EventDraft, now: datetime
) -> FamilyEvent:
    """Record one of the school's family events (not a team meeting: those appear alone)."""
    await _school_in_reach(uow, principal, school_id)
    rules.check_kind(draft.kind)
    event = FamilyEvent(
        family_event_id=f"fev-{uuid.uuid4().hex}",
        district_id=principal.district_id,
        school_id=school_id,
        title=draft.title,
        kind=draft.kind,
        learning_linked=draft.learning_linked,
        on=draft.on,
        created_by=principal.subject,
        created_at=now,
        updated_at=now,
    )
    await store.insert_event(uow, event)
    return event


async def record_turnout(
    uow: UnitOfWork,
    *,
    principal: Principal,
    family_event_id: str,
    families: int,
    by_relationship: dict[Relationship, int] | None,
    now: datetime,
) -> FamilyEvent:
    """Record, afterwards, how many families came (and who, when the school counted)."""
    event = await store.get_event(uow, principal.district_id, family_event_id)
    if event is None:
        raise NotFound("no such family event", code="unknown-family-event")
    if not oversees(principal, event.school_id):
        raise out_of_reach(principal, "family event")
    rules.check_attendance(families, by_relationship)
    event = replace(
        event, families_attending=families, by_relationship=by_relationship, updated_at=now
    )
    await store.save_attendance(uow, event)
    uow.publish(
        FamilyEventTurnoutRecorded(
            district_id=event.district_id,
            family_event_id=event.family_event_id,
            school_id=event.school_id,
            kind=event.kind,
            learning_linked=event.learning_linked,
            on=event.on,
            families_attending=families,
            by_relationship=by_relationship,
        )
    )
    return event


@dataclass(frozen=True)
class SchoolYearSpan:
    first: date
    last: date
    months: list[str]
    start_month: int


async def _span(
    uow: UnitOfWork, district_id: str, school_id: str, school_year: str
) -> tuple[SchoolYearSpan, list[CalendarItem]]:
    """The school year's dates (from the school's calendar, else the platform's school year) and the
    conference windows its calendar planned."""
    year = first_year(school_year)
    start_month, windows = schoolyear.START_MONTH, []
    calendar = await calendar_store.get_calendar(uow, district_id, school_id, school_year)
    if calendar is not None:
        template = await find_template(uow, district_id, calendar.template_id)
        start_month = template.start_month
        windows = [
            CalendarItem(
                source=rules.CONFERENCE_WINDOW,
                item_id=f"{calendar.calendar_id}:{w.sequence}",
                kind=rules.CONFERENCE_WINDOW,
                learning_linked=True,
                on=w.starts_on,
                families_attending=None,
                title=w.label,
            )
            for w in plan(template, school_year)
            if w.kind == "conference"
        ]
    first = date(year, start_month, 1)
    last = date(year + 1, start_month, 1) - timedelta(days=1)
    span = SchoolYearSpan(first, last, rules.year_months(year, start_month), start_month)
    return span, windows


def _rounds(meetings: list[TeamMeeting], zone: str, families: dict[str, int]) -> list[CalendarItem]:
    """Team meetings grouped into the school's rounds: one window, or one day without one."""
    rounds: dict[str, list[TeamMeeting]] = defaultdict(list)
    for meeting in meetings:
        if meeting.active:
            day = local_date(meeting.starts_at, zone)
            rounds[meeting.window_id or f"day:{day.isoformat()}"].append(meeting)
    items = []
    for key, group in rounds.items():
        days = tuple(sorted({local_date(m.starts_at, zone) for m in group}))
        taken = [m for m in group if m.attendance_taken]
        items.append(
            CalendarItem(
                source=rules.TEAM_MEETING,
                item_id=key,
                kind=rules.TEAM_MEETING,
                learning_linked=True,
                on=days[0],
                families_attending=sum(families.get(m.meeting_id, 0) for m in taken)
                if taken
                else None,
                days=days,
            )
        )
    return items


def _recorded(event: FamilyEvent) -> CalendarItem:
    return CalendarItem(
        source="school",
        item_id=event.family_event_id,
        kind=event.kind,
        learning_linked=event.learning_linked,
        on=event.on,
        families_attending=event.families_attending,
        title=event.title,
    )


async def list_events(
    uow: UnitOfWork,
    *,
    principal: Principal,
    school_id: str,
    school_year: str,
    after: tuple[date, str] | None,
    limit: int,
) -> list[FamilyEvent]:
    """A page of the events the school recorded in a school year, by date."""
    await _school_in_reach(uow, principal, school_id)
    span, _ = await _span(uow, principal.district_id, school_id, school_year)
    return await store.events_of_school(
        uow, principal.district_id, school_id, span.first, span.last, after=after, limit=limit
    )


async def consolidation(
    uow: UnitOfWork, *, principal: Principal, school_id: str, school_year: str
) -> Consolidation:
    """The school's year: events per month, linked or not, and what to merge or cut."""
    district_id = principal.district_id
    await _school_in_reach(uow, principal, school_id)
    span, windows = await _span(uow, district_id, school_id, school_year)
    zone = await school_timezone(uow, district_id, school_id)
    tz = ZoneInfo(zone)
    since = datetime.combine(span.first, time(), tz)
    until = datetime.combine(span.last + timedelta(days=1), time(), tz)
    meetings = await store.meetings_of_school(uow, district_id, school_id, since, until)
    taken = sorted(m.meeting_id for m in meetings if m.active and m.attendance_taken)
    families = await store.families_present(uow, district_id, taken)
    recorded = await store.events_of_school(uow, district_id, school_id, span.first, span.last)
    items = [*map(_recorded, recorded), *_rounds(meetings, zone, families), *windows]
    config = uow.config_as(Config)
    thresholds = rules.Rules(
        crowded_month=config.consolidation_crowded_month,
        near_days=config.consolidation_near_days,
        few_families=config.consolidation_few_families,
    )
    return rules.consolidate(school_id, school_year, span.months, items, thresholds)
