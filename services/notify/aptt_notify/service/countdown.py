"""Countdown to kindergarten: incoming families get the sequence's messages before the SIS
knows their child (docs/decisions/0520).

Each guardian of an incoming family becomes a recipient of its own (`kg-<family>-<n>`) in
the guardians read model, so the sequence goes through the one pipeline every message takes:
the guardian's language and channel, quiet hours, STOP, rate limits, the inbox. Each step is
a notice keyed by the family and the step: an event handled twice, or a family changed,
plans no step twice; a message's key (family, recipient, step) is unique.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime

from aptt_contracts.data import (
    GuardianContactUpdated,
    IncomingFamilyRemoved,
    IncomingFamilyUpserted,
)
from aptt_platform.events import ReceivedEvent
from aptt_platform.mongo import Document, UnitOfWork, utcnow

from aptt_notify import store
from aptt_notify.domain.countdown import (
    DEFAULT_SEQUENCE,
    STEP_TEMPLATES,
    Sequence,
    Step,
    due_at,
    first_day,
    versioned,
)
from aptt_notify.domain.model import MessageStatus
from aptt_notify.service import countdown_steps
from aptt_notify.service.notices import (
    CANCELLED,
    OPEN,
    SCHEDULED,
    create_notice,
    guardians_audience,
)
from aptt_notify.settings import Config
from aptt_notify.store.countdown import guardian_id, incoming_families
from aptt_notify.store.messages import set_messages


def _source(family_id: str) -> str:
    return f"countdown:{family_id}"


def _notice_ids(district_id: str, family_id: str, steps: tuple[Step, ...]) -> list[str]:
    return [store.doc_id(district_id, _source(family_id), str(s.template)) for s in steps]


async def on_incoming_family(
    uow: UnitOfWork, event: IncomingFamilyUpserted, meta: ReceivedEvent
) -> None:
    """Keep the family and its guardians' contacts, and plan the steps not planned yet."""
    district_id = meta.district_id
    recipients = [guardian_id(event.family_id, n) for n in range(1, len(event.guardians) + 1)]
    applied = await incoming_families.upsert(
        uow,
        district_id,
        event.family_id,
        {
            "school_id": event.school_id,
            "birth_date": event.birth_date.isoformat(),
            # For the district's own steps, which may reach the family when they change.
            "child_first_name": event.child_first_name,
            "guardian_ids": recipients,
            "phones": sorted({g.phone for g in event.guardians if g.phone}),
            "emails": sorted({g.email for g in event.guardians if g.email}),
        },
        version=meta.time,
    )
    if not applied.written:
        return
    matched = (applied.before or {}).get("matched_student_id") is not None
    for recipient, guardian in zip(recipients, event.guardians, strict=True):
        await store.roster.guardians.upsert(
            uow,
            district_id,
            recipient,
            {
                "contact": {
                    "given_name": guardian.given_name,
                    "family_name": None,
                    "language": guardian.language,
                    "email": guardian.email,
                    "phone": guardian.phone,
                    "student_ids": [],
                    "school_ids": [event.school_id],
                },
                "incoming_family_id": event.family_id,
            },
            version=meta.time,
        )
        if guardian.phone:
            await store.limits.set_sms_number(
                uow, guardian.phone, {"language": guardian.language, "district_id": district_id}
            )
    if not matched:
        matched = await _already_enrolled(uow, district_id, event)
    if not matched:  # an enrolled child's family is in the normal flow now
        await _plan(uow, district_id, event, recipients, now=utcnow())


async def _already_enrolled(
    uow: UnitOfWork, district_id: str, event: IncomingFamilyUpserted
) -> bool:
    """The district entered a family whose child the roster has already (same guardian
    contact, a child of that birth date): it is matched, and no countdown starts."""
    born = event.birth_date.isoformat()
    for guardian in await store.countdown.roster_guardians_at(
        uow,
        district_id,
        phones=sorted({g.phone for g in event.guardians if g.phone}),
        emails=sorted({g.email for g in event.guardians if g.email}),
    ):
        dates = (guardian.get("contact") or {}).get("student_birth_dates") or {}
        student_id = next((s for s, d in sorted(dates.items()) if d == born), None)
        if student_id is not None:
            await store.countdown.mark_matched(
                uow,
                district_id,
                event.family_id,
                student_id=student_id,
                guardian_id=guardian["guardian_id"],
            )
            return True
    return False


async def _plan(
    uow: UnitOfWork,
    district_id: str,
    event: IncomingFamilyUpserted,
    recipients: list[str],
    *,
    now: datetime,
) -> None:
    school = await store.roster.schools.get(uow, district_id, event.school_id)
    zone = uow.config_as(Config).zone((school or {}).get("timezone"))
    await store.countdown.lock_sequence(uow, district_id)
    sequence = sequence_of(await store.countdown.get_sequence(uow, district_id))
    first = first_day(event.birth_date, cutoff=sequence.cutoff, day=sequence.first_day)
    starts_at = datetime.combine(first, datetime.min.time(), zone).replace(hour=8)
    for step in sequence.steps:
        due = due_at(step, first, now=now, zone=zone)
        if due is None:
            continue
        await create_notice(
            uow,
            district_id=district_id,
            source_event_id=_source(event.family_id),
            template=step.template,
            audience=guardians_audience(recipients),
            params={
                "child": event.child_first_name,
                "starts_at": starts_at,
                "texts": sequence.texts_of(step),
            },
            due_at=due,
            now=now,
            fanout_until=due,
            school_id=event.school_id,
        )
    family = await incoming_families.get(uow, district_id, event.family_id)
    if family is not None:
        await countdown_steps.plan_for_family(uow, family, sequence, now=now, zone=zone)


async def on_incoming_family_removed(
    uow: UnitOfWork, event: IncomingFamilyRemoved, meta: ReceivedEvent
) -> None:
    """The district removed the family: no step goes out any more."""
    district_id = meta.district_id
    # The tombstone keeps no child's name (the own steps needed it while counting down).
    keep = {"school_id": event.school_id, "child_first_name": None}
    applied = await incoming_families.remove(
        uow, district_id, event.family_id, version=meta.time, keep=keep
    )
    if not applied.written:
        return
    recipients = (applied.before or {}).get("guardian_ids", [])
    own = countdown_steps.notice_ids_of(applied.before)
    await _stop(uow, district_id, event.family_id, recipients, own)
    for recipient in recipients:
        # The district removed them: their contacts are not kept any longer either.
        await store.roster.guardians.remove(
            uow, district_id, recipient, version=meta.time, keep={"contact": None}
        )


async def _stop(
    uow: UnitOfWork, district_id: str, family_id: str, recipients: list[str], own: list[str]
) -> None:
    """No step of the family goes out any more: planned ones are cancelled, pending dropped."""
    every = tuple(Step(t, None) for t in STEP_TEMPLATES.values())
    ids = _notice_ids(district_id, family_id, every) + own
    await store.notices.set_notices(
        uow, {"_id": {"$in": ids}, "status": {"$in": [SCHEDULED, OPEN]}}, {"status": CANCELLED}
    )
    await set_messages(
        uow,
        {
            "district_id": district_id,
            "recipient_id": {"$in": recipients},
            "status": MessageStatus.PENDING.value,
            "notice_id": {"$in": ids},
        },
        {"status": MessageStatus.DROPPED.value},
    )


def month_day(value: str) -> tuple[int, int]:
    month, day = value.split("-")
    return int(month), int(day)


def sequence_of(doc: Document | None) -> Sequence:
    """A district's stored sequence, or ours."""
    if not doc:
        return DEFAULT_SEQUENCE
    return Sequence(
        first_day=month_day(doc["first_day"]),
        cutoff=month_day(doc["cutoff"]),
        steps=tuple(
            Step(
                STEP_TEMPLATES[s["step"]],
                s.get("days_before"),
                date.fromisoformat(s["on_date"]) if s.get("on_date") else None,
            )
            for s in doc["steps"]
        ),
        texts=doc.get("texts") or {},
        own_steps=tuple(countdown_steps.step_of(s) for s in doc.get("own_steps") or ()),
    )


def sequence_document(sequence: Sequence) -> Document:
    return {
        "first_day": "{:02d}-{:02d}".format(*sequence.first_day),
        "cutoff": "{:02d}-{:02d}".format(*sequence.cutoff),
        "steps": [
            {
                "step": s.template.value.removeprefix("countdown-"),
                "days_before": s.days_before,
                "on_date": s.on_date.isoformat() if s.on_date else None,
            }
            for s in sequence.steps
        ],
        "texts": sequence.texts,
        "own_steps": [countdown_steps.step_document(s) for s in sequence.own_steps],
    }


async def get_sequence(uow: UnitOfWork, *, district_id: str) -> Document:
    return sequence_document(sequence_of(await store.countdown.get_sequence(uow, district_id)))


async def set_sequence(uow: UnitOfWork, *, district_id: str, sequence: Sequence) -> Document:
    """Change the district's sequence: families added from now on follow it; steps planned
    already keep their day and texts. The district's own steps are versioned: an added or
    changed one reaches the families in the countdown too (service/countdown_steps.py)."""
    await store.countdown.lock_sequence(uow, district_id)
    before = sequence_of(await store.countdown.get_sequence(uow, district_id))
    own_steps, changes = versioned(before.own_steps, sequence.own_steps)
    sequence = replace(sequence, own_steps=own_steps)
    document = sequence_document(sequence)
    await store.countdown.set_sequence(uow, district_id, document)
    await countdown_steps.apply_changes(uow, district_id, sequence, changes, now=utcnow())
    return document


async def match_enrolled(uow: UnitOfWork, district_id: str, event: GuardianContactUpdated) -> None:
    """A roster guardian at an incoming family's phone or email, with a child of the family's
    birth date: the child is enrolled. The family leaves the countdown (what was sent stays
    sent, nothing is sent again) and hears from now on as the roster guardian it is."""
    if not event.student_birth_dates:
        return
    students_by_birth = {born.isoformat(): s for s, born in event.student_birth_dates.items()}
    for family in await store.countdown.families_reached_at(
        uow, district_id, phone=event.phone, email=event.email
    ):
        student_id = students_by_birth.get(family["birth_date"])
        if student_id is None:
            continue  # a sibling already at school: same guardian, another child
        await store.countdown.mark_matched(
            uow,
            district_id,
            family["family_id"],
            student_id=student_id,
            guardian_id=event.guardian_id,
        )
        own = countdown_steps.notice_ids_of(family)
        await _stop(uow, district_id, family["family_id"], family.get("guardian_ids", []), own)
