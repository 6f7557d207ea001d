"""Home-visit events turned into notices for the family: the invitation to the programme, the
times the pair proposes, the confirmation and a cancellation. Only ids, codes and times come
in; the address and the reflection never leave scheduling (decision 0320)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aptt_contracts.scheduling import FamilyInvited, VisitCancelled, VisitProposed, VisitScheduled
from aptt_platform.events import ReceivedEvent
from aptt_platform.mongo import UnitOfWork, utcnow

from aptt_notify.domain.model import Template
from aptt_notify.service.notices import create_notice, guardians_audience
from aptt_notify.settings import Config

VisitEvent = FamilyInvited | VisitProposed | VisitScheduled | VisitCancelled


def _what(event: VisitEvent) -> tuple[Template, list[str], dict[str, Any], datetime | None]:
    """The template, its guardians, its parameters and when it stops being worth sending."""
    if isinstance(event, FamilyInvited):
        return Template.VISIT_INVITATION, event.guardian_ids, {}, None
    if isinstance(event, VisitProposed):
        last = max(event.proposed_times)
        return (
            Template.VISIT_PROPOSED,
            [event.guardian_id],
            {"number": len(event.proposed_times)},
            last,
        )
    if isinstance(event, VisitScheduled):
        params = {"starts_at": event.starts_at}
        return Template.VISIT_CONFIRMED, [event.guardian_id], params, event.starts_at
    # A family that withdrew hears the same kind words as one whose visit was called off.
    return Template.VISIT_CANCELLED, [event.guardian_id], {}, event.starts_at


async def on_visit_event(uow: UnitOfWork, event: VisitEvent, meta: ReceivedEvent) -> None:
    template, guardian_ids, params, expires_at = _what(event)
    now = utcnow()
    await create_notice(
        uow,
        district_id=meta.district_id,
        source_event_id=meta.id,
        template=template,
        audience=guardians_audience(guardian_ids),
        params=params,
        due_at=now,
        now=now,
        fanout_until=now + uow.config_as(Config).recipient_wait,
        expires_at=expires_at,
        school_id=event.school_id,
        student_id=event.student_id,
    )
