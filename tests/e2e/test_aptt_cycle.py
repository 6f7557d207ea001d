"""The APTT cycle through all four services, as separate processes, through their HTTP APIs.

A district imports its roster and results, a teacher schedules a team meeting, every family
is invited once in its language on its channel and learns only its own child's private
number, the teacher shows the anonymous class chart and takes attendance, families set SMART
goals, and new results bring each family one progress message.
"""

from __future__ import annotations

import re
import uuid
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from aptt_local.oneroster import (
    Classroom,
    Guardian,
    Roster,
    School,
    Student,
    Teacher,
    build_package,
    results_csv,
)
from aptt_local.sms_standin import read_sms
from aptt_local.smtp_sink import read_mail
from aptt_local.testing import eventually, zone_at_local_hour
from aptt_platform.dlq import list_dead_letters
from aptt_platform.settings import ServiceSettings

from .conference_steps import fall_conference
from .conftest import System
from .family_steps import personal_note_and_survey_answer

pytestmark = pytest.mark.e2e

INVITATION = "meeting-invitation"
PRIVATE_NUMBER = "private-number"
GOAL_CONFIRMATION = "goal-confirmation"
GOAL_PROGRESS = "goal-progress"


class Family:
    def __init__(self, guardian: Guardian, student: Student, relationship: str) -> None:
        self.guardian = guardian
        self.student = student
        self.relationship = relationship

    @property
    def channel(self) -> str:
        return "sms" if self.guardian.phone else "email"


def make_roster(district: str) -> tuple[Roster, list[Family]]:
    school = School(sourced_id=f"{district}-sch", name="Lincoln Elementary")
    teacher = Teacher(
        sourced_id=f"{district}-t1",
        given_name="Ana",
        family_name="Reyes",
        email="ana.reyes@lincoln.example",
        school_id=school.sourced_id,
    )
    classroom = Classroom(
        sourced_id=f"{district}-c3",
        school_id=school.sourced_id,
        title="Grade 3 Room 12",
        grade=3,
        teacher_id=teacher.sourced_id,
    )
    people = [
        ("Maya", "Lopez", "es", "+14155550101", None, "mother"),
        ("Leo", "Nguyen", "en", None, "leo.parent@example.org", "father"),
        ("Sofia", "Garcia", "es", None, "garcia.family@example.org", "grandparent"),
        ("Ben", "Smith", "en", "+14155550104", None, "mother"),
        ("Ava", "Johnson", "en", None, "johnson.home@example.org", "father"),
        ("Luis", "Martinez", "es", "+14155550106", None, "other"),
    ]
    students, guardians, families = [], [], []
    for i, (given, family, language, phone, email, relationship) in enumerate(people, start=1):
        student = Student(
            sourced_id=f"{district}-s{i}",
            given_name=f"Kid{given}",
            family_name=family,
            grade=3,
            school_id=school.sourced_id,
            classroom_ids=[classroom.sourced_id],
        )
        guardian = Guardian(
            sourced_id=f"{district}-g{i}",
            given_name=given,
            family_name=family,
            email=email,
            phone=phone,
            language=language,
            role="parent",
            student_ids=[student.sourced_id],
        )
        students.append(student)
        guardians.append(guardian)
        families.append(Family(guardian, student, relationship))
    roster = Roster(
        district_id=district,
        district_name="Demo Unified",
        schools=[school],
        teachers=[teacher],
        classrooms=[classroom],
        students=students,
        guardians=guardians,
        school_year_start=date(2026, 8, 1),
    )
    return roster, families


async def inbox(
    client: httpx.AsyncClient, system: System, district: str, family: Family
) -> list[dict[str, Any]]:
    headers = system.token(
        subject=family.guardian.sourced_id, district_id=district, roles=["guardian"]
    )
    answer = await client.get(
        f"{system.urls['notify']}/v1/me/messages", headers=headers, params={"limit": 200}
    )
    answer.raise_for_status()
    items: list[dict[str, Any]] = answer.json()["items"]
    return items


def templates(messages: list[dict[str, Any]]) -> Counter[str]:
    return Counter(m["template"] for m in messages)


async def import_done(
    client: httpx.AsyncClient, data: str, headers: dict[str, str], posted: httpx.Response
) -> dict[str, Any]:
    """Follow an import job (202 and its Location) until it is done; its report."""
    job: dict[str, Any] = posted.json()

    async def ended() -> bool:
        nonlocal job
        job = (await client.get(f"{data}{posted.headers['location']}", headers=headers)).json()
        return job["status"] in ("done", "failed")

    await eventually(ended, timeout=180, what="the import job")
    assert job["status"] == "done", job
    return job


async def test_the_aptt_cycle(system: System) -> None:
    district = "e2e-" + uuid.uuid4().hex[:8]
    roster, families = make_roster(district)
    school_id = roster.schools[0].sourced_id
    classroom_id = roster.classrooms[0].sourced_id
    admin = system.token(subject="admin-1", district_id=district, roles=["district_admin"])
    teacher = system.token(
        subject=roster.teachers[0].sourced_id,
        district_id=district,
        roles=["teacher"],
        schools=[school_id],
    )
    data, scheduling, goals = (system.urls[s] for s in ("data", "scheduling", "goals"))

    async with httpx.AsyncClient(timeout=30) as client:
        # 1. The district imports its roster and a first round of results.
        posted = await client.post(
            f"{data}/v1/roster/imports",
            headers=admin,
            files={"file": ("roster.zip", build_package(roster), "application/zip")},
            data={"mode": "bulk"},
        )
        assert posted.status_code == 202, posted.text
        report = await import_done(client, data, admin, posted)
        assert report["rejected"] == []
        assert report["counts"]["created"] > 0
        settings = await client.put(
            f"{data}/v1/schools/{school_id}/settings",
            headers=admin,
            json={"timezone": zone_at_local_hour(12), "language": "en"},
        )
        assert settings.status_code == 200, settings.text
        first_scores = [62, 75, 88, 95, 104, 118]
        fall = date.today() - timedelta(days=14)
        rows = [
            (f.student.sourced_id, "orf", float(s), fall)
            for f, s in zip(families, first_scores, strict=True)
        ]
        posted = await client.post(
            f"{data}/v1/assessments/imports",
            headers=admin,
            files={"file": ("results.csv", results_csv(rows), "text/csv")},
        )
        assert posted.status_code == 202, posted.text
        assert (await import_done(client, data, admin, posted))["counts"]["accepted"] == 6

        # 2. The teacher schedules a team meeting on reading, three days from now.
        starts_at = (datetime.now(UTC) + timedelta(days=3)).replace(microsecond=0)

        # Polled with a read: every refused attempt to schedule would count against the
        # teacher's budget of message-sending requests.
        async def roster_reached_scheduling() -> bool:
            answer = await client.get(
                f"{scheduling}/v1/classrooms/{classroom_id}/team-meetings", headers=teacher
            )
            if answer.status_code == 200:
                return True
            assert answer.status_code in (403, 404), answer.text  # roster not arrived yet
            return False

        await eventually(roster_reached_scheduling, timeout=180, what="the roster in scheduling")
        scheduled = await client.post(
            f"{scheduling}/v1/team-meetings",
            headers=teacher,
            json={
                "classroom_id": classroom_id,
                "starts_at": starts_at.isoformat(),
                "duration_minutes": 75,
                "location": "Library",
                "focus_skill_code": "orf",
                "agenda": [
                    "team building",
                    "reading fluency lesson",
                    "class data",
                    "home activities",
                    "goal setting",
                ],
            },
        )
        assert scheduled.status_code == 201, scheduled.text
        meeting: dict[str, Any] = scheduled.json()
        meeting_id = meeting["meeting_id"]

        # 3. Every guardian gets exactly one invitation, in their language, on their channel.
        async def everyone_invited() -> bool:
            for family in families:
                if templates(await inbox(client, system, district, family))[INVITATION] != 1:
                    return False
            return True

        await eventually(everyone_invited, timeout=180, what="one invitation per guardian")
        mail = read_mail(system.stack.maildir)
        texts = read_sms(system.stack.sms_store)
        for family in families:
            [invitation] = [
                m
                for m in await inbox(client, system, district, family)
                if m["template"] == INVITATION
            ]
            assert invitation["language"] == family.guardian.language
            if family.channel == "email":
                sent = [
                    m
                    for m in mail
                    if family.guardian.email in m.envelope_to
                    and m.message["X-APTT-Template"] == INVITATION
                ]
                assert len(sent) == 1
                assert sent[0].message["Content-Language"] == family.guardian.language
                assert sent[0].body("plain")
            else:
                sent_sms = [
                    t
                    for t in texts
                    if t["to"] == family.guardian.phone and t["body"] == invitation["text"]
                ]
                assert len(sent_sms) == 1

        # 4. The class report hides identities; each family learns only its own number.
        async def report_ready() -> bool:
            answer = await client.get(
                f"{data}/v1/meetings/{meeting_id}/class-report", headers=teacher
            )
            return answer.status_code == 200

        await eventually(report_ready, timeout=180, what="the class report")
        chart = (
            await client.get(f"{data}/v1/meetings/{meeting_id}/class-report", headers=teacher)
        ).json()
        assert chart["suppressed"] is False
        assert sorted(bar["score"] for bar in chart["bars"]) == sorted(first_scores)
        svg = await client.get(f"{data}/v1/meetings/{meeting_id}/class-report.svg", headers=teacher)
        assert svg.headers["content-type"].startswith("image/svg+xml")
        for family in families:
            for secret in (
                family.student.sourced_id,
                family.student.given_name,
                family.student.family_name,
                family.guardian.given_name,
            ):
                assert secret not in str(chart)
                assert secret not in svg.text

        numbers: dict[str, int] = {}
        for family in families:
            guardian = system.token(
                subject=family.guardian.sourced_id, district_id=district, roles=["guardian"]
            )
            own = await client.get(
                f"{data}/v1/meetings/{meeting_id}/private-numbers/{family.student.sourced_id}",
                headers=guardian,
            )
            assert own.status_code == 200, own.text
            numbers[family.guardian.sourced_id] = own.json()["number"]
            other = next(f for f in families if f is not family)
            denied = await client.get(
                f"{data}/v1/meetings/{meeting_id}/private-numbers/{other.student.sourced_id}",
                headers=guardian,
            )
            assert denied.status_code in (403, 404)
        assert sorted(numbers.values()) == sorted(bar["number"] for bar in chart["bars"])

        async def numbers_delivered() -> bool:
            for family in families:
                if templates(await inbox(client, system, district, family))[PRIVATE_NUMBER] != 1:
                    return False
            return True

        await eventually(numbers_delivered, timeout=180, what="each family's private number")
        for family in families:
            [message] = [
                m
                for m in await inbox(client, system, district, family)
                if m["template"] == PRIVATE_NUMBER
            ]
            mentioned = {int(n) for n in re.findall(r"\b\d+\b", message["text"])}
            own_number = numbers[family.guardian.sourced_id]
            assert own_number in mentioned

        # 5. Families RSVP; the teacher records attendance, with who came.
        maya = families[0]
        maya_token = system.token(
            subject=maya.guardian.sourced_id, district_id=district, roles=["guardian"]
        )
        rsvp = await client.put(
            f"{scheduling}/v1/team-meetings/{meeting_id}/rsvps/{maya.student.sourced_id}",
            headers=maya_token,
            json={"attending": True, "interpreter_language": "es", "childcare_count": 2},
        )
        assert rsvp.status_code == 200, rsvp.text
        not_hers = families[1].student.sourced_id
        stranger = await client.put(
            f"{scheduling}/v1/team-meetings/{meeting_id}/rsvps/{not_hers}",
            headers=maya_token,
            json={"attending": True, "childcare_count": 0},
        )
        assert stranger.status_code in (403, 404)
        attendance = await client.put(
            f"{scheduling}/v1/team-meetings/{meeting_id}/attendance",
            headers=teacher,
            json={
                "records": [
                    {
                        "student_id": f.student.sourced_id,
                        "guardian_id": f.guardian.sourced_id,
                        "relationship": f.relationship,
                        "present": f is not families[-1],
                    }
                    for f in families
                ],
            },
        )
        assert attendance.status_code == 200, attendance.text
        summary = (
            await client.get(
                f"{scheduling}/v1/team-meetings/{meeting_id}/attendance", headers=teacher
            )
        ).json()
        assert summary["families_attended"] == 5

        # 6. A goal that is not SMART is refused with reasons in Spanish; a SMART one is set.
        maya_es = {**maya_token, "Accept-Language": "es"}
        vague = {
            "student_id": maya.student.sourced_id,
            "skill_code": "orf",
            "target": 50,
            "activities": [{"description": "leer juntos", "times": 5, "per": "week"}],
            "starts_on": date.today().isoformat(),
            "ends_on": (date.today() + timedelta(days=120)).isoformat(),
        }

        async def goal_setting_open() -> bool:
            answer = await client.post(f"{goals}/v1/goals", headers=maya_es, json=vague)
            if answer.status_code == 422 and answer.json()["type"].endswith("/not-smart"):
                refused.update(answer.json())
                return True
            assert answer.status_code in (403, 404, 409), answer.text
            return False

        refused: dict[str, Any] = {}
        await eventually(
            goal_setting_open, timeout=180, what="goal setting to open after attendance"
        )
        failed = {c["name"] for c in refused["checks"] if not c["passed"]}
        assert {"time_bound", "realistic"} <= failed
        assert all(c["reason"] and c["suggestion"] for c in refused["checks"] if not c["passed"])
        # Grade 3 reading grows about 1.1 words a week: 62 -> 72 in eight weeks is in reach.
        smart = {**vague, "target": 72, "ends_on": (date.today() + timedelta(days=56)).isoformat()}
        goal = await client.post(f"{goals}/v1/goals", headers=maya_es, json=smart)
        assert goal.status_code == 201, goal.text
        goal_id = goal.json()["goal_id"]

        async def confirmed() -> bool:
            return templates(await inbox(client, system, district, maya))[GOAL_CONFIRMATION] == 1

        await eventually(confirmed, timeout=180, what="the goal confirmation")

        # 7. New results: the family hears once how the child is doing.
        later = date.today()
        posted = await client.post(
            f"{data}/v1/assessments/imports",
            headers=admin,
            files={
                "file": (
                    "winter.csv",
                    results_csv([(maya.student.sourced_id, "orf", 68.0, later)]),
                    "text/csv",
                )
            },
        )
        assert (await import_done(client, data, admin, posted))["counts"]["accepted"] == 1

        async def progress_heard() -> bool:
            return templates(await inbox(client, system, district, maya))[GOAL_PROGRESS] == 1

        await eventually(progress_heard, timeout=180, what="the progress message")
        progressed = (await client.get(f"{goals}/v1/goals/{goal_id}", headers=maya_token)).json()
        assert progressed["progress"]["percent"] == 60  # (68 - 62) / (72 - 62)
        texts = read_sms(system.stack.sms_store)
        [progress] = [
            m for m in await inbox(client, system, district, maya) if m["template"] == GOAL_PROGRESS
        ]
        assert (
            len(
                [
                    t
                    for t in texts
                    if t["to"] == maya.guardian.phone and t["body"] == progress["text"]
                ]
            )
            == 1
        )

        await personal_note_and_survey_answer(client, system, district, teacher, maya, meeting_id)
        await fall_conference(client, system, district, teacher, roster, families)

    # 8. Nothing of this district ended in dead letters.
    for service in system.urls:
        settings = ServiceSettings(
            service_name=service, kafka_bootstrap_servers=system.stack.kafka_bootstrap
        )
        letters = [
            letter
            for letter in await list_dead_letters(settings, service)
            if letter.district_id == district
        ]
        assert letters == [], f"{service} dead-lettered {letters}"
