"""Countdown to kindergarten: incoming families get the sequence's messages before the SIS
knows their child (docs/decisions/0520).

Each guardian of an incoming family becomes a recipient of its own (`kg-<family>-<n>`) in
the guardians read model, so the sequence goes through the one pipeline every message takes:
the guardian's language and channel, quiet hours, STOP, rate limits, the inbox. Each step is
a notice keyed by the family and the step: an event handled twice, or a family changed,
plans no step twice; a message's key (family, recipient, step) is unique.
"""

from __future__ import annotations

from datetime import datetime

from aptt_contracts.data import IncomingFamilyRemoved, IncomingFamilyUpserted
from aptt_platform.events import ReceivedEvent
from aptt_platform.mongo import UnitOfWork, utcnow

from aptt_notify import store
from aptt_notify.domain.countdown import DEFAULT_STEPS, Step, due_at, first_day
from aptt_notify.domain.model import MessageStatus
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
            "guardian_ids": recipients,
        },
        version=meta.time,
    )
    if not applied.written:
        return
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
    await _plan(uow, district_id, event, recipients, now=utcnow())


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
    first = first_day(event.birth_date)
    starts_at = datetime.combine(first, datetime.min.time(), zone).replace(hour=8)
    for step in DEFAULT_STEPS:
        due = due_at(step, first, now=now, zone=zone)
        if due is None:
            continue
        await create_notice(
            uow,
            district_id=district_id,
            source_event_id=_source(event.family_id),
            template=step.template,
            audience=guardians_audience(recipients),
            params={"child": event.child_first_name, "starts_at": starts_at},
            due_at=due,
            now=now,
            fanout_until=due,
            school_id=event.school_id,
        )


async def on_incoming_family_removed(
    uow: UnitOfWork, event: IncomingFamilyRemoved, meta: ReceivedEvent
) -> None:
    """The district removed the family: no step goes out any more."""
    district_id = meta.district_id
    applied = await incoming_families.remove(
        uow, district_id, event.family_id, version=meta.time, keep={"school_id": event.school_id}
    )
    if not applied.written:
        return
    ids = _notice_ids(district_id, event.family_id, DEFAULT_STEPS)
    await store.notices.set_notices(
        uow, {"_id": {"$in": ids}, "status": {"$in": [SCHEDULED, OPEN]}}, {"status": CANCELLED}
    )
    await set_messages(
        uow,
        {
            "district_id": district_id,
            "recipient_id": {"$in": (applied.before or {}).get("guardian_ids", [])},
            "status": MessageStatus.PENDING.value,
            "notice_id": {"$in": ids},
        },
        {"status": MessageStatus.DROPPED.value},
    )
