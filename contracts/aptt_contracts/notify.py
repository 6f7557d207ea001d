"""Events of the notify service: what was sent or failed, never what it said."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from aptt_contracts.bounds import Code, Id, LanguageTag
from aptt_contracts.envelope import EventModel

DELIVERIES = "aptt.notify.deliveries.v1"

Channel = Literal["sms", "email", "inapp"]


class MessageSent(EventModel):
    event_type = "org.aptt.notify.message.sent.v1"
    topic = DELIVERIES
    subject_field = "message_id"

    message_id: Id
    recipient_id: Id
    channel: Channel
    template: Code
    language: LanguageTag
    source_event_id: Id


class MessageFailed(EventModel):
    event_type = "org.aptt.notify.message.failed.v1"
    topic = DELIVERIES
    subject_field = "message_id"

    message_id: Id
    recipient_id: Id
    channel: Channel
    template: Code
    reason_code: Code
    source_event_id: Id


# Home-visit invitations answered by text (docs/decisions/0541).
VISIT_ANSWERS = "aptt.notify.visit-answers.v1"


class VisitAnswerReceived(EventModel):
    """A guardian with an open home-visit invitation texted YES or NO: ids and the answer
    code only, never the text."""

    event_type = "org.aptt.notify.visit-answer.received.v1"
    topic = VISIT_ANSWERS
    subject_field = "invitation_id"

    invitation_id: Id
    guardian_id: Id
    answer: Literal["yes", "no"]
    received_at: datetime
