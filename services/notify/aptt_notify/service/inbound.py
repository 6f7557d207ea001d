"""Texts people send to the app's number: STOP-family words, START and HELP first; any
other text is a survey answer or a reply to a teacher (service/surveys.py, replies.py).

Opting out belongs to the phone number, whoever it belongs to, as carriers treat it. STOP
confirms once, when the number goes from subscribed to opted out (someone who already said
STOP gets no more texts); START and HELP are answered each time. A reply's key is the
inbound message's sid, so a webhook the provider retries is answered once.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from aptt_platform.mongo import Document, UnitOfWork
from aptt_platform.sms import count_segments

from aptt_notify import store
from aptt_notify.domain.model import Keyword, Template, classify_inbound
from aptt_notify.domain.visit_answers import visit_answer
from aptt_notify.i18n import render
from aptt_notify.service import replies, surveys, visit_answers
from aptt_notify.settings import Config

REPLIES = {
    Keyword.STOP: Template.SMS_STOPPED,
    Keyword.START: Template.SMS_STARTED,
    Keyword.HELP: Template.SMS_HELP,
}


async def handle_inbound_sms(
    uow: UnitOfWork, *, phone: str, body: str, message_sid: str, now: datetime
) -> Keyword | None:
    """Opt the number out or in, and queue the reply; the sender sends it."""
    config = uow.config_as(Config)
    keyword = classify_inbound(body)
    if keyword not in (Keyword.STOP, Keyword.HELP) and visit_answer(body) is not None:
        # YES from a number that said STOP is an un-STOP first; from a subscribed number
        # with an open home-visit invitation it answers the invitation (0541).
        number = await store.limits.sms_number(uow, phone) or {}
        if not number.get("opted_out") and await visit_answers.answer_by_sms(
            uow, phone=phone, body=body, now=now
        ):
            return None
    if keyword is None:
        # Not a keyword: a survey answer, or a reply for a teacher's inbox (0513, 0514).
        answered = await surveys.answer_by_sms(
            uow, phone=phone, body=body, message_sid=message_sid, now=now
        )
        if not answered:
            await replies.record_family_reply(
                uow, sender=phone, body=body, key=f"sms|{message_sid}", channel="sms", now=now
            )
        return None
    number = await store.limits.sms_number(uow, phone) or {}
    was_opted_out = bool(number.get("opted_out"))
    if keyword is Keyword.STOP:
        await store.limits.set_sms_number(
            uow, phone, {"opted_out": True, "changed_at": now, "source": "keyword"}
        )
        if was_opted_out:
            return keyword
    elif keyword is Keyword.START:
        await store.limits.set_sms_number(
            uow, phone, {"opted_out": False, "changed_at": now, "source": "keyword"}
        )
    template = REPLIES[keyword]
    rendered = render(template, number.get("language"), {}, zone=config.zone(None))
    text = rendered.short
    segments = count_segments(text)
    reply: Document = {
        "_id": uuid.uuid4().hex,
        "district_id": number.get("district_id") or "",
        "key": f"inbound|{message_sid}|{template}|sms",
        "message_id": None,
        "recipient_id": None,
        "source_event_id": message_sid,
        "template": str(template),
        "channel": "sms",
        "language": rendered.language,
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": now,
        "in_flight": False,
        "expires_at": now + config.reply_expiry,
        "zone": None,
        "quiet_hours": None,
        "reply": True,
        "to": phone,
        "body": text,
        "segments": segments.count,
        "encoding": segments.encoding,
        "created_at": now,
    }
    await store.deliveries.insert_deliveries(uow, [reply])
    return keyword
