"""A home-visit invitation answered by text: notify reads the YES or NO and publishes
`VisitAnswerReceived`; the answer is recorded as any other, with channel "sms"
(docs/decisions/0325, 0541)."""

from __future__ import annotations

import logging

from aptt_contracts.notify import VisitAnswerReceived
from aptt_platform.errors import DomainError
from aptt_platform.events import ReceivedEvent
from aptt_platform.mongo import UnitOfWork

from aptt_scheduling.service.visits import answer_invitation

log = logging.getLogger(__name__)


async def on_sms_answer(uow: UnitOfWork, event: VisitAnswerReceived, meta: ReceivedEvent) -> None:
    try:
        await answer_invitation(
            uow,
            district_id=meta.district_id,
            guardian_id=event.guardian_id,
            invitation_id=event.invitation_id,
            yes=event.answer == "yes",
            channel="sms",
            now=event.received_at,
        )
    except DomainError as refused:
        # An invitation gone or no longer open: retrying would not change the answer.
        log.info(
            "sms visit answer not recorded",
            extra={"invitation_id": event.invitation_id, "code": refused.code},
        )
