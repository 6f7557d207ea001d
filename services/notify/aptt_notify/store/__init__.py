"""The notify service's collections, their indexes and queries, one module per theme:

- `roster`: read models of other services' aggregates (schools, classrooms, students,
  skills, guardians' contacts), with tombstones and event versions;
- `meetings`: the meetings read model;
- `notices`, `messages`, `deliveries`: the three queues work moves through (what to tell an
  audience and when; one message per guardian, the inbox item; one delivery per message and
  channel, what the sender sends). The unique keys of messages and deliveries are the
  idempotency keys that make "never twice" a database rule;
- `limits`: hourly rate buckets and the SMS number book;
- `conferences`: the conference bookings read model;
- `visits`: the home visits' families and open invitations.

Every index starts with district_id, except the queue indexes the sender scans across
districts and the SMS number book, which belongs to a phone number, not to a district
(docs/decisions/0501-notify-delivery-pipeline.md).
"""

from __future__ import annotations

from collections.abc import Sequence

from pymongo import IndexModel

from aptt_notify.store import (
    conferences,
    countdown,
    deliveries,
    limits,
    meetings,
    messages,
    notes,
    notices,
    roster,
    surveys,
    talk,
    visits,
)
from aptt_notify.store.collections import (
    CLASSROOMS,
    DELIVERIES,
    GUARDIANS,
    MEETINGS,
    MESSAGES,
    NOTICES,
    RATE_BUCKETS,
    SCHOOLS,
    SKILLS,
    SMS_NUMBERS,
    STUDENTS,
    doc_id,
)

INDEXES: dict[str, Sequence[IndexModel]] = {
    **roster.INDEXES,
    **meetings.INDEXES,
    **notices.INDEXES,
    **messages.INDEXES,
    **deliveries.INDEXES,
    **limits.INDEXES,
    **countdown.INDEXES,
    **notes.INDEXES,
    **talk.INDEXES,
    **surveys.INDEXES,
    **conferences.INDEXES,
    **visits.INDEXES,
}

__all__ = [
    "CLASSROOMS",
    "DELIVERIES",
    "GUARDIANS",
    "INDEXES",
    "MEETINGS",
    "MESSAGES",
    "NOTICES",
    "RATE_BUCKETS",
    "SCHOOLS",
    "SKILLS",
    "SMS_NUMBERS",
    "STUDENTS",
    "conferences",
    "countdown",
    "deliveries",
    "doc_id",
    "limits",
    "meetings",
    "messages",
    "notes",
    "notices",
    "roster",
    "surveys",
    "talk",
    "visits",
]
