"""Home-visit invitations answered by text (docs/decisions/0325, 0541): notify keeps which
guardians have an invitation not yet answered, and a YES or NO from their number becomes a
`VisitAnswerReceived` that scheduling records as the answer. Only ids and the answer code
leave this service; the text itself is not kept.
"""

from __future__ import annotations

from datetime import datetime

from aptt_contracts.notify import VisitAnswerReceived
from aptt_contracts.scheduling import FamilyInvited, FamilyOptedIn, FamilyOptedOut
from aptt_platform.events import ReceivedEvent
from aptt_platform.mongo import UnitOfWork

from aptt_notify import store
from aptt_notify.domain.visit_answers import visit_answer
from aptt_notify.service import replies


async def record_invitation(uow: UnitOfWork, event: FamilyInvited, meta: ReceivedEvent) -> None:
    await store.visits.invitations.upsert(
        uow,
        meta.district_id,
        event.invitation_id,
        {"guardian_ids": event.guardian_ids, "student_id": event.student_id},
        version=meta.time,
    )


async def on_answered(
    uow: UnitOfWork, event: FamilyOptedIn | FamilyOptedOut, meta: ReceivedEvent
) -> None:
    """Answered, by any channel: a later YES or NO text is no answer any more."""
    await store.visits.invitations.remove(
        uow, meta.district_id, event.invitation_id, version=meta.time
    )


async def answer_by_sms(uow: UnitOfWork, *, phone: str, body: str, now: datetime) -> bool:
    """True when the text answered an open invitation (the answer event is published)."""
    answer = visit_answer(body)
    if answer is None:
        return False
    district_id, guardian_ids = await replies.guardians_with_phone(uow, phone)
    if not guardian_ids:
        return False
    found = await store.visits.open_invitations(uow, district_id, guardian_ids)
    if not found:
        return False
    for invitation in found:
        # A phone shared by two guardians of the family answers as the first invited.
        guardian_id = next(g for g in invitation["guardian_ids"] if g in guardian_ids)
        uow.publish(
            VisitAnswerReceived(
                district_id=district_id,
                invitation_id=invitation["invitation_id"],
                guardian_id=guardian_id,
                answer=answer,
                received_at=now,
            )
        )
    return True
