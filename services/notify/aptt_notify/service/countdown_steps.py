"""A district's own countdown steps: messages and kindergarten events (docs/decisions/0520).

Each version of a step is a notice of its own per family, keyed by (family, step, version,
template), so a family hears each version at most once however often an event is handled
or the service restarts. The family's document keeps which version and notice it has per
step (`own_steps`), so a change knows whether the family was told already: an event the
family was told about gets an update (or a cancellation) at once; a step not sent yet is
replaced; a message sent stays sent.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from aptt_platform.logging import get_logger
from aptt_platform.mongo import Document, UnitOfWork

from aptt_notify import store
from aptt_notify.domain.countdown import EventTime, OwnStep, Sequence, due_at, first_day
from aptt_notify.domain.model import MessageStatus, Template
from aptt_notify.service.notices import (
    CLOSED,
    OPEN,
    SCHEDULED,
    create_notice,
    guardians_audience,
)
from aptt_notify.settings import Config
from aptt_notify.store.countdown import incoming_families

log = get_logger(__name__)
# The incoming families one change reaches in its transaction: a district's kindergarten
# class for a year is far fewer.
MAX_FAMILIES_PER_CHANGE = 5000
TOLD = (OPEN, CLOSED)  # a notice that went out (or is going out) to the family


def step_of(doc: Document) -> OwnStep:
    event = doc.get("event")
    return OwnStep(
        step_id=doc["id"],
        kind="event" if doc["kind"] == "event" else "message",
        texts=doc.get("texts") or {},
        days_before=doc.get("days_before"),
        on_date=date.fromisoformat(doc["on_date"]) if doc.get("on_date") else None,
        event=EventTime(
            day=date.fromisoformat(event["date"]),
            starts=time.fromisoformat(event["starts"]),
            ends=time.fromisoformat(event["ends"]),
            timezone=event["timezone"],
        )
        if event
        else None,
        version=int(doc.get("version", 1)),
    )


def step_document(step: OwnStep) -> Document:
    event = step.event
    return {
        "id": step.step_id,
        "kind": step.kind,
        "version": step.version,
        "days_before": step.days_before,
        "on_date": step.on_date.isoformat() if step.on_date else None,
        "event": {
            "date": event.day.isoformat(),
            "starts": event.starts.strftime("%H:%M"),
            "ends": event.ends.strftime("%H:%M"),
            "timezone": event.timezone,
        }
        if event
        else None,
        "texts": step.texts,
    }


def _source(family_id: str, step: OwnStep) -> str:
    return f"countdown:{family_id}:{step.step_id}:{step.version}"


def _params(family: Document, step: OwnStep, first: date, zone: ZoneInfo) -> dict[str, Any]:
    params: dict[str, Any] = {
        "child": family.get("child_first_name") or "",
        "starts_at": datetime.combine(first, time(8), zone),
        "own_texts": step.texts,
    }
    if step.event is not None:
        params |= {
            "event_starts_at": step.event.starts_at(),
            "event_ends_at": step.event.ends_at(),
            "event_zone": step.event.timezone,
        }
    return params


def _calendar(family_id: str, step: OwnStep, method: str, sequence: int) -> Document:
    """Stable UID per step and family; SEQUENCE is the step's version."""
    assert step.event is not None
    return {
        "uid": f"countdown-{family_id}-{step.step_id}",
        "sequence": sequence,
        "method": method,
        "starts_at": step.event.starts_at(),
        "ends_at": step.event.ends_at(),
        "timezone": step.event.timezone,
    }


async def _send(
    uow: UnitOfWork,
    family: Document,
    step: OwnStep,
    template: Template,
    *,
    due: datetime,
    now: datetime,
    first: date,
    zone: ZoneInfo,
) -> str:
    """One notice of this version of the step to the family's guardians; its id."""
    district_id, family_id = family["district_id"], family["family_id"]
    params = _params(family, step, first, zone)
    expires_at = None
    if step.event is not None:
        cancel = template is Template.COUNTDOWN_EVENT_CANCELLED
        sequence = step.version + 1 if cancel else step.version
        params["calendar"] = _calendar(family_id, step, "CANCEL" if cancel else "REQUEST", sequence)
        expires_at = step.event.starts_at()  # an invitation after the event helps nobody
    source = _source(family_id, step)
    await create_notice(
        uow,
        district_id=district_id,
        source_event_id=source,
        template=template,
        audience=guardians_audience(family.get("guardian_ids", [])),
        params=params,
        due_at=due,
        now=now,
        fanout_until=due,
        expires_at=expires_at,
        school_id=family.get("school_id"),
    )
    notice_id = store.doc_id(district_id, source, str(template))
    await _remember(uow, family, step, notice_id)
    return notice_id


async def _remember(uow: UnitOfWork, family: Document, step: OwnStep, notice_id: str) -> None:
    await uow.collection(incoming_families.collection).update_one(
        incoming_families.key(family["district_id"], family["family_id"]),
        {"$set": {f"own_steps.{step.step_id}": {"version": step.version, "notice_id": notice_id}}},
        session=uow.session,
    )


def _due(step: OwnStep, first: date, *, now: datetime, zone: ZoneInfo) -> datetime | None:
    """When the step goes out; None when its day, or the event, is past."""
    if step.event is not None and step.event.starts_at() <= now:
        return None
    return due_at(step.schedule, first, now=now, zone=zone)


async def plan_for_family(
    uow: UnitOfWork, family: Document, sequence: Sequence, *, now: datetime, zone: ZoneInfo
) -> None:
    """A family the district entered: the versions of its own steps it has not had yet."""
    first = first_day(
        date.fromisoformat(family["birth_date"]), cutoff=sequence.cutoff, day=sequence.first_day
    )
    had = family.get("own_steps") or {}
    for step in sequence.own_steps:
        if (had.get(step.step_id) or {}).get("version", 0) >= step.version:
            continue
        due = _due(step, first, now=now, zone=zone)
        if due is not None:
            await _send(
                uow, family, step, step.schedule.template, due=due, now=now, first=first, zone=zone
            )


async def apply_changes(
    uow: UnitOfWork,
    district_id: str,
    sequence: Sequence,
    changes: list[tuple[OwnStep | None, OwnStep | None]],
    *,
    now: datetime,
) -> None:
    """The district added, changed or removed its own steps: every family in the countdown
    hears of it as it should (see the module's docstring)."""
    if not changes:
        return
    families = await incoming_families.find_live(
        uow, district_id, {}, limit=MAX_FAMILIES_PER_CHANGE
    )
    if len(families) >= MAX_FAMILIES_PER_CHANGE:
        log.warning(
            "countdown change reached only the first families",
            district_id=district_id,
            families=len(families),
        )
    config = uow.config_as(Config)
    zones: dict[str | None, ZoneInfo] = {}
    for family in families:
        if "matched_student_id" in family or not family.get("birth_date"):
            continue
        school_id = family.get("school_id")
        if school_id not in zones:
            school = await store.roster.schools.get(uow, district_id, school_id or "")
            zones[school_id] = config.zone((school or {}).get("timezone"))
        first = first_day(
            date.fromisoformat(family["birth_date"]),
            cutoff=sequence.cutoff,
            day=sequence.first_day,
        )
        for old, new in changes:
            await _change(uow, family, old, new, now=now, first=first, zone=zones[school_id])


async def _change(
    uow: UnitOfWork,
    family: Document,
    old: OwnStep | None,
    new: OwnStep | None,
    *,
    now: datetime,
    first: date,
    zone: ZoneInfo,
) -> None:
    either = new or old
    assert either is not None
    step_id = either.step_id
    had = (family.get("own_steps") or {}).get(step_id) or {}
    told = False
    if had.get("notice_id"):
        notice = await store.notices.get_notice(uow, had["notice_id"])
        told = notice is not None and notice["status"] in TOLD
        await withdraw(uow, family, [had["notice_id"]])
    told_event = told and old is not None and old.event is not None
    if told_event and old is not None and old.event is not None:
        gone = new is None or new.kind != "event"
        if gone and old.event.starts_at() > now:  # removed, or now a message instead
            template = Template.COUNTDOWN_EVENT_CANCELLED
            await _send(uow, family, old, template, due=now, now=now, first=first, zone=zone)
    if new is None:
        return
    if told_event and new.event is not None:
        if new.event.starts_at() > now:
            template = Template.COUNTDOWN_EVENT_CHANGED
            await _send(uow, family, new, template, due=now, now=now, first=first, zone=zone)
        return
    if told and not told_event and new.kind == "message":
        await _remember(uow, family, new, had["notice_id"])  # a message sent stays sent
        return
    due = _due(new, first, now=now, zone=zone)
    if due is not None:
        await _send(
            uow, family, new, new.schedule.template, due=due, now=now, first=first, zone=zone
        )


async def withdraw(uow: UnitOfWork, family: Document, notice_ids: list[str]) -> None:
    """Planned notices are cancelled and messages not sent yet dropped; what went stays."""
    if not notice_ids:
        return
    district_id = family["district_id"]
    await store.notices.set_notices(
        uow, {"_id": {"$in": notice_ids}, "status": SCHEDULED}, {"status": "cancelled"}
    )
    await store.notices.set_notices(
        uow, {"_id": {"$in": notice_ids}, "status": OPEN}, {"status": CLOSED}
    )
    await store.messages.set_messages(
        uow,
        {
            "district_id": district_id,
            "recipient_id": {"$in": family.get("guardian_ids", [])},
            "status": MessageStatus.PENDING.value,
            "notice_id": {"$in": notice_ids},
        },
        {"status": MessageStatus.DROPPED.value},
    )


def notice_ids_of(family: Document | None) -> list[str]:
    """The notices of a family's own steps, to stop them with the family's countdown."""
    had = (family or {}).get("own_steps") or {}
    return [s["notice_id"] for s in had.values() if s.get("notice_id")]
