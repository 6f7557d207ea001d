"""The fall conference: the teacher publishes hours, every family hears that sign-up is open,
a Spanish-speaking family books a time with an interpreter, gets the confirmation by email
with an invitation for its calendar, and then the reminder."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import httpx
import icalendar
from aptt_local.oneroster import Roster
from aptt_local.smtp_sink import read_mail
from aptt_local.testing import eventually

from .conftest import CONFERENCE_REMINDER_MINUTES, System


class FamilyLike(Protocol):
    @property
    def guardian(self) -> Any: ...

    @property
    def student(self) -> Any: ...


async def _templates(
    client: httpx.AsyncClient, system: System, district: str, family: FamilyLike
) -> list[str]:
    headers = system.token(
        subject=family.guardian.sourced_id, district_id=district, roles=["guardian"]
    )
    answer = await client.get(
        f"{system.urls['notify']}/v1/me/messages", headers=headers, params={"limit": 200}
    )
    answer.raise_for_status()
    return [m["template"] for m in answer.json()["items"]]


async def _conference_window(
    client: httpx.AsyncClient,
    scheduling: str,
    admin: dict[str, str],
    teacher: dict[str, str],
    *,
    school_id: str,
    classroom_id: str,
    today: date,
) -> str:
    first = today.year if today.month >= 8 else today.year - 1
    template = await client.post(
        f"{scheduling}/v1/calendar-templates",
        headers=admin,
        json={
            "name": "fall conferences",
            "start_month": 8,
            "windows": [{"kind": "conference", "month": today.month, "span_months": 1}],
        },
    )
    assert template.status_code == 201, template.text
    year = f"{first}-{first + 1}"
    applied = await client.post(
        f"{scheduling}/v1/schools/{school_id}/engagement-calendars",
        headers=admin,
        json={"template_id": template.json()["template_id"], "school_year": year},
    )
    assert applied.status_code in (200, 201), applied.text
    windows = await client.get(
        f"{scheduling}/v1/classrooms/{classroom_id}/meeting-windows",
        headers=teacher,
        params={"school_year": year},
    )
    assert windows.status_code == 200, windows.text
    [window] = [w for w in windows.json()["items"] if w["kind"] == "conference"]
    window_id: str = window["window_id"]
    return window_id


async def fall_conference(
    client: httpx.AsyncClient,
    system: System,
    district: str,
    teacher: dict[str, str],
    roster: Roster,
    families: Sequence[FamilyLike],
) -> None:
    school_id = roster.schools[0].sourced_id
    classroom_id = roster.classrooms[0].sourced_id
    # A Spanish-speaking family that reads email: the .ics and the interpreter show.
    booking_family = next(f for f in families if f.guardian.language == "es" and f.guardian.email)
    scheduling, data = system.urls["scheduling"], system.urls["data"]
    admin = system.token(subject="admin-1", district_id=district, roles=["district_admin"])
    settings = await client.get(f"{data}/v1/schools/{school_id}/settings", headers=admin)
    assert settings.status_code == 200, settings.text
    zone = ZoneInfo(settings.json()["timezone"])
    # The first slot starts just after the short reminder's lead time, so the reminder falls
    # due during the test (the processes run with that lead time, see conftest).
    lead = timedelta(minutes=CONFERENCE_REMINDER_MINUTES)
    first_slot = (datetime.now(UTC) + lead + timedelta(seconds=60)).replace(microsecond=0)
    local = first_slot.astimezone(zone)
    window_id = await _conference_window(
        client,
        scheduling,
        admin,
        teacher,
        school_id=school_id,
        classroom_id=classroom_id,
        today=local.date(),
    )
    interpreter = await client.post(
        f"{scheduling}/v1/interpreters",
        headers=admin,
        json={
            "name": "Rosa",
            "languages": ["es"],
            "available": [
                {
                    "starts_at": (first_slot - timedelta(hours=1)).isoformat(),
                    "ends_at": (first_slot + timedelta(hours=2)).isoformat(),
                }
            ],
        },
    )
    assert interpreter.status_code == 201, interpreter.text

    # 1. The teacher publishes an hour of 20-minute slots; sign-up is open until the first.
    ends = (local + timedelta(hours=1)).time()
    published = await client.post(
        f"{scheduling}/v1/conference-availability",
        headers=teacher,
        json={
            "classroom_id": classroom_id,
            "window_id": window_id,
            "days": [
                {
                    "day": local.date().isoformat(),
                    "starts": local.time().isoformat(),
                    "ends": min(ends, time(23, 59)).isoformat(),
                }
            ],
            "place": "Room 12",
            "slot_minutes": 20,
            "signup_opens_at": (datetime.now(UTC) - timedelta(minutes=1)).isoformat(),
            "signup_closes_at": first_slot.isoformat(),
        },
    )
    assert published.status_code == 201, published.text
    availability = published.json()

    # 2. Every family hears once that sign-up is open.
    async def everyone_told() -> bool:
        for family in families:
            found = await _templates(client, system, district, family)
            if found.count("conference-signup-open") != 1:
                return False
        return True

    await eventually(everyone_told, timeout=180, what="sign-up open for every family")

    # 3. The family books the first slot with a Spanish interpreter.
    guardian = system.token(
        subject=booking_family.guardian.sourced_id, district_id=district, roles=["guardian"]
    )
    slot = availability["slots"][0]
    booked = await client.post(
        f"{scheduling}/v1/conference-slots/{slot['slot_id']}/booking",
        headers=guardian,
        json={"student_id": booking_family.student.sourced_id, "interpreter_language": "es"},
    )
    assert booked.status_code == 201, booked.text
    booking = booked.json()
    assert booking["interpreter_id"] == interpreter.json()["interpreter_id"]

    # 4. The confirmation by email carries the invitation for the calendar.
    email = booking_family.guardian.email

    def mails(template: str) -> list[Any]:
        return [
            m
            for m in read_mail(system.stack.maildir)
            if email in m.envelope_to and m.message["X-APTT-Template"] == template
        ]

    async def confirmed_by_mail() -> bool:
        return bool(mails("conference-confirmed"))

    await eventually(confirmed_by_mail, timeout=180, what="the confirmation with its .ics")
    [confirmed] = mails("conference-confirmed")
    assert "intérprete de español" in (confirmed.body("plain") or "")
    [part] = [p for p in confirmed.message.walk() if p.get_content_type() == "text/calendar"]
    assert part.get_param("method") == "REQUEST"
    calendar = icalendar.Calendar.from_ical(part.get_content())
    [event] = calendar.walk("VEVENT")
    assert str(event["UID"]) == f"conference-{booking['booking_id']}"
    assert event.decoded("DTSTART") == datetime.fromisoformat(slot["starts_at"])

    # 5. The reminder before the conference.
    async def reminded_by_mail() -> bool:
        return bool(mails("conference-reminder-2h"))

    await eventually(reminded_by_mail, timeout=180, what="the reminder")
    assert "conference-reminder-2h" in await _templates(client, system, district, booking_family)
