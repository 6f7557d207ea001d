"""Change notices that fold: changes to one meeting, or to one conference booking, within the
change window reach each family as one notice with the final state (docs/decisions/0542).

A change notice waits out the window. A change of the same subject while it waits folds into
it: its due time stays (or comes forward for a subject about to begin), its facts become the
latest, and "it was" stays what the families knew before the first change of the window. A
change back to what they knew withdraws it. Events of one subject share a partition key, so
folds apply in order; the notice lives in the database, so a restart or a redelivered event
finds it and folds into it rather than making another.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from aptt_platform.mongo import Document, UnitOfWork

from aptt_notify import store
from aptt_notify.domain.model import Template
from aptt_notify.service.notices import (
    CANCELLED,
    SCHEDULED,
    cancel_notices,
    create_notice,
    open_notice,
)
from aptt_notify.settings import Config


@dataclass(frozen=True)
class Change:
    """One change of a subject (a meeting or a booking: the notices' `meeting_id`)."""

    district_id: str
    source_event_id: str
    subject_id: str
    template: Template
    audience: Document
    starts_at: datetime
    # What the families would now be told, and what they knew before this change; compared
    # key by key to withdraw a waiting notice when the subject comes back to what they knew.
    state: Document
    known: Document
    # The notice's facts as they stand now; `previous_starts_at` is added from `known`.
    params: dict[str, Any] = field(default_factory=dict)
    school_id: str | None = None
    student_id: str | None = None
    # How long after it falls due the notice still reaches guardians the roster brings.
    fanout: timedelta = timedelta(0)
    # The messages carry their facts (a conference's time and calendar invitation): an
    # earlier change notice's messages that have not gone out would tell an outdated state,
    # so a new notice stops them. A meeting's messages read the meeting when they are sent.
    supersede: bool = False


async def tell_of_change(uow: UnitOfWork, change: Change, *, now: datetime) -> None:
    """One change notice per subject and window; a subject about to begin is not held back:
    its notice is due by `change_notice_lead` before the start, and at once when that is past."""
    config = uow.config_as(Config)
    subject = {"district_id": change.district_id, "meeting_id": change.subject_id}
    waiting = [
        n
        for n in await store.notices.notices(uow, {**subject, "status": SCHEDULED})
        if n["template"] == str(change.template)
    ]
    latest_due = change.starts_at - config.change_notice_lead
    if waiting:
        notice = waiting[0]
        known: Document | None = notice.get("known")
        if known is not None and _as_known(known, change.state):
            # Back to what the families were told: nothing to tell them.
            await store.notices.set_notices(uow, {"_id": notice["_id"]}, {"status": CANCELLED})
            return
        due_at = max(now, min(notice["due_at"], latest_due))
        previous = (known or {}).get("starts_at", notice["params"].get("previous_starts_at"))
        changed = {
            "due_at": due_at,
            "fanout_until": due_at + change.fanout,
            "expires_at": change.starts_at,
            "params": {**change.params, "previous_starts_at": previous},
        }
        await store.notices.set_notices(uow, {"_id": notice["_id"]}, changed)
        if due_at <= now:
            await open_notice(uow, {**notice, **changed}, now=now)
        return
    if change.supersede:
        await cancel_notices(uow, change.district_id, change.subject_id, (change.template,))
    due_at = max(now, min(now + config.change_window, latest_due))
    await create_notice(
        uow,
        district_id=change.district_id,
        source_event_id=change.source_event_id,
        template=change.template,
        audience=change.audience,
        params={**change.params, "previous_starts_at": change.known["starts_at"]},
        due_at=due_at,
        now=now,
        fanout_until=due_at + change.fanout,
        expires_at=change.starts_at,
        school_id=change.school_id,
        meeting_id=change.subject_id,
        student_id=change.student_id,
        known=change.known,
    )


def _as_known(known: Document, state: Document) -> bool:
    return all(_same(known.get(key), value) for key, value in state.items())


def _same(stored: Any, given: Any) -> bool:
    if isinstance(stored, datetime) and isinstance(given, datetime):
        # The database keeps milliseconds and an aware UTC time.
        return abs((stored - given).total_seconds()) < 0.001
    return bool(stored == given)
