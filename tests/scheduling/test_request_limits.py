"""Request limits on writes (aptt_platform.ratelimit): per caller and per district, answered
with 429 problem details and Retry-After, counted in the service's database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from .conftest import District, Scheduling, iso

MESSAGES_PER_PRINCIPAL = 5
MESSAGES_PER_DISTRICT = 8
WRITES_PER_PRINCIPAL = 3
SCHEDULING_SETTINGS = {
    "request_limit_messages_per_principal": MESSAGES_PER_PRINCIPAL,
    "request_limit_messages_per_district": MESSAGES_PER_DISTRICT,
    "request_limit_writes_per_principal": WRITES_PER_PRINCIPAL,
    "request_limit_writes_per_district": 100,
}
WINDOW = 600  # the default window of the messages budget, in seconds


async def reschedule(
    d: District, meeting_id: str, days: float, headers: dict[str, str]
) -> httpx.Response:
    return await d.api.client.post(
        f"/v1/team-meetings/{meeting_id}/reschedule",
        json={"starts_at": iso(datetime.now(UTC) + timedelta(days=days))},
        headers=headers,
    )


def assert_limited(answer: httpx.Response, *, budget: str, scopes: list[str]) -> None:
    assert answer.status_code == 429, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    retry_after = int(answer.headers["retry-after"])
    problem: dict[str, Any] = answer.json()
    assert problem["type"].endswith("/rate-limited")
    assert (problem["budget"], problem["scopes"]) == (budget, scopes)
    assert problem["retry_after"] == retry_after
    assert 1 <= retry_after <= problem["window_seconds"]


async def test_a_reschedule_burst_is_refused_past_the_limits_of_the_teacher_and_the_district(
    scheduling: Scheduling,
) -> None:
    d = await scheduling.district()
    meeting = await d.schedule(in_days=10)  # the teacher's first message request
    meeting_id = meeting["meeting_id"]
    for n in range(MESSAGES_PER_PRINCIPAL - 1):
        moved = await reschedule(d, meeting_id, 11 + n, d.teacher)
        assert moved.status_code == 200, moved.text
    last_accepted = moved.json()["starts_at"]

    refused = await reschedule(d, meeting_id, 30, d.teacher)
    assert_limited(refused, budget="messages", scopes=["principal"])
    assert 1 <= int(refused.headers["retry-after"]) <= WINDOW
    shown = await scheduling.client.get(f"/v1/team-meetings/{meeting_id}", headers=d.teacher)
    assert shown.status_code == 200, "reads are not limited"
    assert shown.json()["starts_at"] == last_accepted, "a refused change changes nothing"

    # Another member of staff of the district has a budget of their own, until the
    # district's is spent (the teacher's refused request counted too: 6 of 8).
    admin = d.school_admin
    for n in range(MESSAGES_PER_DISTRICT - MESSAGES_PER_PRINCIPAL - 1):
        moved = await reschedule(d, meeting_id, 40 + n, admin)
        assert moved.status_code == 200, moved.text
    assert_limited(
        await reschedule(d, meeting_id, 50, admin), budget="messages", scopes=["district"]
    )

    # Another district's limits are its own.
    other = await scheduling.district()
    other_meeting = await other.schedule(in_days=10)
    moved = await reschedule(other, other_meeting["meeting_id"], 12, other.teacher)
    assert moved.status_code == 200, moved.text

    # Other writes have a budget apart from the message-producing changes.
    rsvp = f"/v1/team-meetings/{other_meeting['meeting_id']}/rsvps/{other.students[0]}"
    guardian = other.guardian()
    for _ in range(WRITES_PER_PRINCIPAL):
        answered = await scheduling.client.put(rsvp, json={"attending": True}, headers=guardian)
        assert answered.status_code == 200, answered.text
    again = await scheduling.client.put(rsvp, json={"attending": True}, headers=guardian)
    assert_limited(again, budget="writes", scopes=["principal"])
