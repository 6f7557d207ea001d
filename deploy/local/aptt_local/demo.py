"""Demo data for `aptt up`: one district, two schools, families in four languages.

Everything goes in through the services' own HTTP APIs, the way a district would load it,
so the demo also shows the events flowing (`aptt events aptt.data.roster.v1 --from-beginning`).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
from aptt_platform.devissuer import DevIssuer, DevUser

from aptt_local.imports import post_import, wait_for_import
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
from aptt_local.servers import LocalStack

DISTRICT = "demo-district"
TIMEZONE = ZoneInfo("America/Los_Angeles")
FAMILIES = [
    # guardian given name, family name, language, phone, email
    ("Maya", "Lopez", "es", "+14155550101", None),
    ("Leo", "Nguyen", "vi", None, "nguyen.family@example.org"),
    ("Sofia", "Garcia", "es", None, "garcia.family@example.org"),
    ("Ben", "Smith", "en", "+14155550104", None),
    ("Ava", "Johnson", "en", None, "johnson.home@example.org"),
    ("Luis", "Martinez", "es", "+14155550106", None),
    ("Mei", "Chen", "zh", "+14155550107", "chen.home@example.org"),
    ("Omar", "Hassan", "en", "+14155550108", None),
]
EDUCATORS = [("e-lincoln-1", "Eli Park"), ("e-lincoln-2", "Rosa Diaz"), ("e-lincoln-3", "Sam Lee")]


def demo_roster() -> Roster:
    schools = [
        School(sourced_id="sch-lincoln", name="Lincoln Elementary"),
        School(sourced_id="sch-garfield", name="Garfield Elementary"),
    ]
    teachers = [
        Teacher(
            sourced_id="t-reyes",
            given_name="Ana",
            family_name="Reyes",
            email="ana.reyes@lincoln.example",
            school_id="sch-lincoln",
        ),
        Teacher(
            sourced_id="t-okafor",
            given_name="Grace",
            family_name="Okafor",
            email="grace.okafor@garfield.example",
            school_id="sch-garfield",
        ),
    ]
    classrooms = [
        Classroom(
            sourced_id="c-lincoln-3a",
            school_id="sch-lincoln",
            title="Grade 3 Room 12",
            grade=3,
            teacher_id="t-reyes",
        ),
        Classroom(
            sourced_id="c-garfield-2b",
            school_id="sch-garfield",
            title="Grade 2 Room 4",
            grade=2,
            teacher_id="t-okafor",
        ),
    ]
    students: list[Student] = []
    guardians: list[Guardian] = []
    for number, classroom in enumerate(classrooms):
        for i, (given, family, language, phone, email) in enumerate(FAMILIES, start=1):
            student_id = f"s-{classroom.sourced_id}-{i}"
            students.append(
                Student(
                    sourced_id=student_id,
                    given_name=f"{given[0]}. Jr",
                    family_name=family,
                    grade=classroom.grade,
                    school_id=classroom.school_id,
                    classroom_ids=[classroom.sourced_id],
                )
            )
            guardians.append(
                Guardian(
                    sourced_id=f"g-{classroom.sourced_id}-{i}",
                    given_name=given,
                    family_name=family,
                    language=language,
                    role="parent",
                    student_ids=[student_id],
                    phone=phone[:-3] + f"{number}{i:02d}" if phone else None,
                    email=email.replace("@", f"+{number}@") if email else None,
                )
            )
    return Roster(
        district_id=DISTRICT,
        district_name="Demo Unified School District",
        schools=schools,
        teachers=teachers,
        classrooms=classrooms,
        students=students,
        guardians=guardians,
        school_year_start=date(2026, 8, 1),
    )


def demo_users(roster: Roster) -> list[DevUser]:
    """Who the dev issuer's sign-in page offers: an admin of each kind, the teachers, the
    home-visit educators, and a family in each of the demo's languages."""
    users = [
        DevUser("demo-admin", "Dana Admin (district)", roster.district_id, ["district_admin"], []),
        DevUser(
            "demo-principal",
            "Pat Principal (Lincoln)",
            roster.district_id,
            ["school_admin"],
            [roster.schools[0].sourced_id],
        ),
    ]
    users += [
        DevUser(
            t.sourced_id,
            f"{t.given_name} {t.family_name} (teacher)",
            roster.district_id,
            ["teacher"],
            [t.school_id],
        )
        for t in roster.teachers
    ]
    # Educators who visit Lincoln's families (PTHV): a pair goes together, a third does not.
    users += [
        DevUser(
            subject,
            f"{name} (home visits, Lincoln)",
            roster.district_id,
            ["educator"],
            [roster.schools[0].sourced_id],
        )
        for subject, name in EDUCATORS
    ]
    seen: set[str] = set()
    for guardian in roster.guardians:
        if guardian.language in seen:
            continue
        seen.add(guardian.language)
        users.append(
            DevUser(
                guardian.sourced_id,
                f"{guardian.given_name} {guardian.family_name} (family, {guardian.language})",
                roster.district_id,
                ["guardian"],
                [],
                guardian.language,
            )
        )
    return users


def _must_be_done(job: dict[str, object]) -> None:
    if job["status"] != "done" or job.get("rejected_count"):
        raise RuntimeError(f"the demo import did not go through: {job}")


def seed(
    service_urls: Mapping[str, str],
    *,
    issuer_key: Path,
    issuer_url: str,
    stack: LocalStack,
    timezone: ZoneInfo = TIMEZONE,
) -> str:
    """Load the demo district through the services' APIs; return how to walk the cycle.

    Tests name a `timezone` where it is day now, so quiet hours do not hold their messages."""
    issuer = DevIssuer(issuer_url, issuer_key)
    admin = {
        "Authorization": "Bearer "
        + issuer.mint(subject="demo-admin", district_id=DISTRICT, roles=["district_admin"])
    }
    roster = demo_roster()
    with httpx.Client(timeout=60) as http:
        data, scheduling = service_urls["data"], service_urls["scheduling"]
        posted = post_import(
            http,
            data,
            admin,
            "roster",
            ("roster.zip", build_package(roster), "application/zip"),
            mode="bulk",
        )
        _must_be_done(wait_for_import(http, data, admin, posted, timeout=300))
        for school in roster.schools:
            http.put(
                f"{data}/v1/schools/{school.sourced_id}/settings",
                headers=admin,
                json={"timezone": timezone.key, "language": "en"},
            ).raise_for_status()
        fall = date.today() - timedelta(days=21)
        rows = []
        for k, student in enumerate(roster.students):
            skill = "orf" if student.grade == 3 else "math-facts"
            base = 70.0 if skill == "orf" else 18.0
            rows.append((student.sourced_id, skill, base + (k % 8) * 6, fall))
        posted = post_import(
            http, data, admin, "results", ("fall.csv", results_csv(rows), "text/csv")
        )
        _must_be_done(wait_for_import(http, data, admin, posted, timeout=300))
        meetings = []
        for classroom in roster.classrooms:
            teacher = _teacher(issuer, classroom)
            starts = (datetime.now(UTC) + timedelta(days=5)).replace(
                hour=1, minute=0, second=0, microsecond=0
            )
            body = {
                "classroom_id": classroom.sourced_id,
                "starts_at": starts.isoformat(),
                "duration_minutes": 75,
                "location": "Library",
                "focus_skill_code": "orf" if classroom.grade == 3 else "math-facts",
                "agenda": [
                    "Team building",
                    "Foundational skill lesson",
                    "Class data",
                    "Home activities",
                    "Goal setting",
                ],
            }
            _wait_until_rostered(http, service_urls, teacher, classroom.sourced_id)
            answer = http.post(f"{scheduling}/v1/team-meetings", headers=teacher, json=body)
            if answer.status_code != 201:
                raise RuntimeError(f"could not schedule the demo meeting: {answer.text}")
            meetings.append(str(answer.json()["meeting_id"]))
        _conference_evening(http, scheduling, admin, issuer, roster, timezone)
    return _walkthrough(service_urls, meetings, roster)


def _teacher(issuer: DevIssuer, classroom: Classroom) -> dict[str, str]:
    token = issuer.mint(
        subject=classroom.teacher_id,
        district_id=DISTRICT,
        roles=["teacher"],
        school_ids=[classroom.school_id],
    )
    return {"Authorization": f"Bearer {token}"}


def _conference_evening(
    http: httpx.Client,
    scheduling: str,
    admin: dict[str, str],
    issuer: DevIssuer,
    roster: Roster,
    timezone: ZoneInfo,
) -> None:
    """Each school's calendar gets a conference window from this month to the next, and the
    first classroom's teacher publishes an evening of conference hours families can book."""
    now = datetime.now(UTC).astimezone(timezone)
    # The demo's school year starts this month, so its window can span this month and the next.
    first_year = now.year
    template = http.post(
        f"{scheduling}/v1/calendar-templates",
        headers=admin,
        json={
            "name": "Demo conferences",
            "start_month": now.month,
            "windows": [{"kind": "conference", "month": now.month, "span_months": 2}],
        },
    )
    template.raise_for_status()
    for school in roster.schools:
        http.post(
            f"{scheduling}/v1/schools/{school.sourced_id}/engagement-calendars",
            headers=admin,
            json={
                "template_id": template.json()["template_id"],
                "school_year": f"{first_year}-{first_year + 1}",
            },
        ).raise_for_status()
    classroom = roster.classrooms[0]
    teacher = _teacher(issuer, classroom)
    day = (now + timedelta(days=10)).date()
    http.post(
        f"{scheduling}/v1/conference-availability",
        headers=teacher,
        json={
            "classroom_id": classroom.sourced_id,
            "days": [{"day": day.isoformat(), "starts": "16:00", "ends": "18:00"}],
            "place": "Room 12",
            "slot_minutes": 15,
            "signup_opens_at": (datetime.now(UTC) - timedelta(minutes=1)).isoformat(),
        },
    ).raise_for_status()


def _wait_until_rostered(
    http: httpx.Client, urls: Mapping[str, str], teacher: dict[str, str], classroom_id: str
) -> None:
    """The roster reaches the other services through Kafka after the import answered: wait
    until each of them knows the classroom, so the demo opens on complete pages. Polled with
    reads, which do not count against the teacher's budget of message-sending requests."""
    paths = {
        "scheduling": f"/v1/classrooms/{classroom_id}/team-meetings",
        "notify": f"/v1/classrooms/{classroom_id}/families",
        "goals": f"/v1/classrooms/{classroom_id}/goals",
    }
    deadline = time.monotonic() + 300
    waiting = dict(paths)
    while waiting:
        for service, path in list(waiting.items()):
            answer = http.get(urls[service] + path, headers=teacher)
            if answer.status_code == 200:
                del waiting[service]
            elif answer.status_code not in (403, 404):
                answer.raise_for_status()
        if waiting and time.monotonic() > deadline:
            raise RuntimeError(f"the demo roster did not reach {', '.join(sorted(waiting))}")
        if waiting:
            time.sleep(0.5)


def _walkthrough(urls: Mapping[str, str], meetings: list[str], roster: Roster) -> str:
    guardian = roster.guardians[0]
    return "\n".join(
        [
            f"Demo district '{DISTRICT}' is loaded: {len(roster.schools)} schools, "
            f"{len(roster.classrooms)} classrooms, {len(roster.students)} students, families "
            "speaking English, Spanish, Vietnamese and Chinese; a team meeting is scheduled in "
            "each classroom.",
            "",
            "Walk the cycle by hand:",
            "  T=$(.venv/bin/aptt token --role teacher --subject t-reyes --school sch-lincoln)",
            f'  curl -H "Authorization: Bearer $T" '
            f"{urls['data']}/v1/meetings/{meetings[0]}/class-report",
            f"  open {urls['data']}/v1/meetings/{meetings[0]}/class-report.svg (with the token)",
            f"  G=$(.venv/bin/aptt token --role guardian --subject {guardian.sourced_id})",
            f'  curl -H "Authorization: Bearer $G" {urls["notify"]}/v1/me/messages',
            f'  curl -H "Authorization: Bearer $G" {urls["data"]}/v1/meetings/{meetings[0]}'
            f"/private-numbers/{guardian.student_ids[0]}",
            "  .venv/bin/aptt mail; .venv/bin/aptt sms      # what families received",
            f"  Then: record attendance ({urls['scheduling']}/docs), set a goal "
            f"({urls['goals']}/docs), import new results ({urls['data']}/docs).",
        ]
    )
