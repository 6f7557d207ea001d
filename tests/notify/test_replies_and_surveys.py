"""Two-way replies and surveys by text: a family's reply reaches the teacher who wrote and
nobody else, STOP still comes first, a survey is answered one digit at a time, and results
stay hidden until five families answered."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aptt_contracts.data import ClassroomUpserted, StudentUpserted
from aptt_contracts.scheduling import AttendanceRecorded
from aptt_local.kafkatools import read_topic
from aptt_local.servers import LocalStack
from aptt_local.sms_standin import twilio_signature
from aptt_local.testing import eventually, random_id
from aptt_notify.api.talk import mail_signature
from aptt_notify.i18n import CATALOGUES
from aptt_platform.devissuer import DevIssuer

from .conftest import District, Family, NotifyApp, running_notify, texts
from .test_personal_notes import note, roster_known, staff
from .test_sms_replies import text_app


@pytest.fixture(scope="module")
async def notify(local_stack: LocalStack, dev_issuer: DevIssuer) -> AsyncIterator[NotifyApp]:
    async with running_notify(local_stack, dev_issuer) as app:
        yield app


async def other_class(district: District, teacher_id: str) -> Family:
    """A second classroom of the school, with its own teacher and one family."""
    family = district.family({})
    district.families.remove(family)
    await district.notify.publish(
        ClassroomUpserted(
            district_id=district.district_id,
            classroom_id=random_id("cls"),
            school_id=district.school_id,
            grade=3,
            teacher_ids=[teacher_id],
            student_ids=[family.student_id],
        ),
        StudentUpserted(
            district_id=district.district_id,
            student_id=family.student_id,
            school_id=district.school_id,
            grade=3,
            guardian_ids=[family.guardians[0].guardian_id],
        ),
        district.contact_event(family.guardians[0]),
    )
    return family


async def get(notify: NotifyApp, path: str, headers: dict[str, str], **params: Any) -> Any:
    response = await notify.client.get(path, headers=headers, params=params)
    return response.status_code, response.json()


async def test_a_reply_reaches_the_teacher_who_wrote_and_nobody_else(notify: NotifyApp) -> None:
    district = notify.district()
    family = district.family({"language": "es"})
    bystander = district.family({})
    await roster_known(district)
    await other_class(district, "t-other")
    guardian = family.guardians[0]
    assert (await note(notify, district, family.student_id))["status"] == 201
    await notify.wait_sms(guardian.phone)
    reply = f"Gracias, leeremos cada noche {uuid.uuid4().hex[:6]}"
    await text_app(notify, guardian.phone, reply)

    async def filed() -> bool:
        status, body = await get(notify, "/v1/inbox", staff(district))
        return bool(status == 200 and body["items"])

    await eventually(filed, timeout=30, what="the reply in the teacher's inbox")
    _, inbox = await get(notify, "/v1/inbox", staff(district))
    [conversation] = inbox["items"]
    assert conversation["student_id"] == family.student_id
    assert conversation["guardian_id"] == guardian.guardian_id
    path = f"/v1/inbox/{conversation['conversation_id']}"
    status, thread = await get(notify, path, staff(district))
    assert status == 200
    assert [(e["direction"], e["text"]) for e in thread["items"]] == [("family", reply)]

    # Nobody else: another teacher, a guardian, another district, the event topics.
    assert (await get(notify, "/v1/inbox", staff(district, "t-other")))[1]["items"] == []
    assert (await get(notify, path, staff(district, "t-other")))[0] == 403
    assert (await get(notify, path, staff(district, district_id=random_id("d"))))[0] == 404
    other_guardian = {"Authorization": f"Bearer {district.token(bystander.guardians[0])}"}
    assert (await get(notify, path, other_guardian))[0] == 403
    assert (await get(notify, "/v1/inbox", other_guardian))[0] == 403
    for item in await notify.inbox(district.token(guardian)):
        assert reply not in item["text"]
    records = await read_topic(notify.stack.kafka_bootstrap, "aptt.notify.deliveries.v1")
    assert not any(reply.encode() in (r.value or b"") for r in records)

    # The teacher answers from the inbox; the family gets it as a text.
    answered = await notify.client.post(
        f"{path}/answers",
        headers=staff(district),
        json={"text": "¡Qué bien! Nos vemos el jueves.", "language": "es"},
    )
    assert answered.status_code == 202, answered.text
    _, last = texts(await notify.wait_sms(guardian.phone, 2))
    assert last == "La maestra o el maestro de su hijo/a respondió: ¡Qué bien! Nos vemos el jueves."
    refused = await notify.client.post(
        f"{path}/answers", headers=staff(district, "t-other"), json={"text": "hi", "language": "en"}
    )
    assert refused.status_code == 403
    elsewhere = await notify.client.post(
        f"{path}/answers",
        headers=staff(district, district_id=random_id("d")),
        json={"text": "hi", "language": "en"},
    )
    assert elsewhere.status_code == 404


async def test_stop_still_stops_and_is_no_reply(notify: NotifyApp) -> None:
    district = notify.district()
    family = district.family({})
    await roster_known(district)
    guardian = family.guardians[0]
    assert (await note(notify, district, family.student_id))["status"] == 201
    await notify.wait_sms(guardian.phone)
    await text_app(notify, guardian.phone, "STOP")
    _, confirmation = texts(await notify.wait_sms(guardian.phone, 2))
    assert confirmation.startswith("You will not get more texts")
    assert (await note(notify, district, family.student_id))["status"] == 201
    newest, first = await notify.wait_inbox(district.token(guardian), 2, template="personal-note")
    assert (newest["status"], first["status"]) == ("suppressed", "sent")
    await asyncio.sleep(1)
    assert len(notify.sms_to(guardian.phone)) == 2
    assert (await get(notify, "/v1/inbox", staff(district)))[1]["items"] == []


def attended(district: District, family: Family, meeting_id: str) -> AttendanceRecorded:
    return AttendanceRecorded(
        district_id=district.district_id,
        meeting_id=meeting_id,
        classroom_id=district.classroom_id,
        school_id=district.school_id,
        student_id=family.student_id,
        guardian_id=family.guardians[0].guardian_id,
        relationship="mother",
        present=True,
    )


async def test_a_survey_is_answered_by_digits_and_hidden_under_five(notify: NotifyApp) -> None:
    district = notify.district()
    texting = district.family({"language": "es"})
    others = [district.family({"phone": False}) for _ in range(4)]
    await roster_known(district)
    meeting = district.meeting(timedelta(hours=-3))  # it is over: no invitation goes out
    await notify.publish(meeting)
    await notify.publish(attended(district, texting, meeting.meeting_id))
    phone = texting.guardians[0].phone
    [first] = await notify.wait_sms(phone)
    assert first["body"].startswith("Pregunta 1 de 4: ¿Qué tan bienvenido/a se sintió")
    # The provider delivers the first answer's webhook twice: it answers one question.
    params = {"Body": "5", "From": phone or "", "MessageSid": "SM" + uuid.uuid4().hex, "To": "+1"}
    signature = twilio_signature(
        f"{notify.url}/v1/sms/inbound", params, notify.stack.sms_auth_token
    )
    for _ in range(2):
        retried = await notify.client.post(
            "/v1/sms/inbound", data=params, headers={"X-Twilio-Signature": signature}
        )
        assert retried.status_code == 200
    assert texts(await notify.wait_sms(phone, 2))[-1].startswith("Pregunta 2 de 4")
    await asyncio.sleep(1)
    assert len(notify.sms_to(phone)) == 2
    for count, digit in enumerate(("4", "4"), start=3):
        await text_app(notify, phone, digit)
        asked = texts(await notify.wait_sms(phone, count))[-1]
        assert asked.startswith(f"Pregunta {count} de 4")
    await text_app(notify, phone, "3")
    thanks = texts(await notify.wait_sms(phone, 5))[-1]
    assert thanks.startswith("¡Gracias!")
    comment = f"Nos gustó mucho {uuid.uuid4().hex[:6]}"
    await text_app(notify, phone, comment)

    admin = staff(district, "admin-1", roles=["school_admin"])

    async def results() -> dict[str, Any]:
        status, body = await get(
            notify, "/v1/surveys/results", admin, meeting_id=meeting.meeting_id
        )
        assert status == 200, body
        found: dict[str, Any] = body
        return found

    async def one_answer() -> bool:
        return bool((await results())["respondents"] == 1)

    await eventually(one_answer, timeout=30, what="the texted answers")
    hidden = await results()
    assert hidden["suppressed"] is True
    assert hidden["questions"] == []

    await notify.publish(*(attended(district, f, meeting.meeting_id) for f in others))
    for family in others:
        token = {"Authorization": f"Bearer {district.token(family.guardians[0])}"}

        async def opened(token: dict[str, str] = token) -> bool:
            return bool((await get(notify, "/v1/surveys/mine", token))[1]["items"])

        await eventually(opened, timeout=30, what="the survey in the app")
        [survey] = (await get(notify, "/v1/surveys/mine", token))[1]["items"]
        answers = {q["question_id"]: 3 for q in survey["questions"]}
        answered = await notify.client.post(
            f"/v1/surveys/{survey['survey_id']}/answers", headers=token, json={"answers": answers}
        )
        assert answered.status_code == 204, answered.text
    # Someone else's survey does not exist for another family.
    stranger = {"Authorization": f"Bearer {district.token(texting.guardians[0])}"}
    taken = await notify.client.post(
        f"/v1/surveys/{survey['survey_id']}/answers",
        headers=stranger,
        json={"answers": answers},
    )
    assert taken.status_code == 404

    shown = await results()
    assert shown["suppressed"] is False
    assert shown["respondents"] == 5
    district_admin = staff(district, "admin-2", roles=["district_admin"], school_ids=[])
    for headers, scope in (
        (staff(district), {"classroom_id": district.classroom_id}),
        (admin, {"school_id": district.school_id}),
        (district_admin, {}),
    ):
        status, wider = await get(notify, "/v1/surveys/results", headers, **scope)
        assert (status, wider["respondents"], wider["suppressed"]) == (200, 5, False), scope
    assert (await get(notify, "/v1/surveys/results", admin))[0] == 403  # the district: not theirs
    welcome = {q["question_id"]: q for q in shown["questions"]}["welcome"]
    assert welcome["answers"] == 5
    assert welcome["mean"] == 3.4  # (5 + 3 * 4) / 5
    status, said = await get(
        notify, "/v1/surveys/comments", staff(district), meeting_id=meeting.meeting_id
    )
    assert status == 200
    assert [c["text"] for c in said["items"]] == [comment]
    assert (
        await get(
            notify,
            "/v1/surveys/comments",
            staff(district, "t-other"),
            meeting_id=meeting.meeting_id,
        )
    )[0] == 403
    assert (
        await get(
            notify,
            "/v1/surveys/results",
            staff(district, district_id=random_id("d")),
            meeting_id=meeting.meeting_id,
        )
    )[0] == 404
    send = f"/v1/surveys/meetings/{meeting.meeting_id}/send"
    assert (await notify.client.post(send, headers=staff(district, "t-other"))).status_code == 403
    assert (await notify.client.post(send, headers=staff(district))).status_code == 200
    # The class teacher has a survey of their own, in the app.
    [own] = (await get(notify, "/v1/surveys/mine", staff(district)))[1]["items"]
    assert [q["question_id"] for q in own["questions"]] == ["engaged", "practice", "goals"]
    records = await read_topic(notify.stack.kafka_bootstrap, "aptt.notify.deliveries.v1")
    assert not any(comment.encode() in (r.value or b"") for r in records)


async def post_mail(
    notify: NotifyApp, mail: dict[str, str], *, secret: str | None = None, age: int = 0
) -> int:
    body = json.dumps(mail).encode()
    timestamp = str(int(datetime.now(UTC).timestamp()) - age)
    key = secret or notify.settings.email_inbound_secret.get_secret_value()
    response = await notify.client.post(
        "/v1/email/inbound",
        content=body,
        headers={
            "Content-Type": "application/json",
            "X-APTT-Timestamp": timestamp,
            "X-APTT-Signature": mail_signature(key, timestamp, body),
        },
    )
    return response.status_code


async def test_an_email_reply_reaches_the_teacher_without_the_quote(notify: NotifyApp) -> None:
    district = notify.district()
    family = district.family({"phone": False, "email": True})
    await roster_known(district)
    guardian = family.guardians[0]
    assert (await note(notify, district, family.student_id))["status"] == 201
    await notify.wait_mail(guardian.email)
    words = f"Thank you, we will read every night {uuid.uuid4().hex[:6]}"
    mail = {
        "from": f"Ana Pérez <{guardian.email}>",
        "to": "reply@aptt.localhost",
        "subject": "Re: A note from your child's teacher",
        "text": f"{words}\n\nOn Tue, Dec 1, 2026 at 6:00 PM School wrote:\n> A note from ...",
        "message_id": f"<{uuid.uuid4().hex}@example.org>",
    }
    assert await post_mail(notify, mail, secret="not-the-secret") == 403
    assert await post_mail(notify, mail, age=3600) == 403
    for _ in range(2):  # the provider retries: filed once
        assert await post_mail(notify, mail) == 204

    async def filed() -> bool:
        return bool((await get(notify, "/v1/inbox", staff(district)))[1]["items"])

    await eventually(filed, timeout=30, what="the email reply in the inbox")
    [conversation] = (await get(notify, "/v1/inbox", staff(district)))[1]["items"]
    _, thread = await get(notify, f"/v1/inbox/{conversation['conversation_id']}", staff(district))
    assert [(e["channel"], e["text"]) for e in thread["items"]] == [("email", words)]


async def test_a_district_writes_its_own_versioned_set_in_every_language(
    notify: NotifyApp,
) -> None:
    district = notify.district()
    family = district.family({"phone": False, "language": "es"})
    await roster_known(district)
    admin = staff(district, "admin-1", roles=["district_admin"])
    languages = list(CATALOGUES.languages)
    questions = [
        {"question_id": f"q{i}", "texts": {lang: f"[{lang}] question {i}?" for lang in languages}}
        for i in range(1, 4)
    ]
    body = {"set_id": "our-families", "audience": "family", "questions": questions}
    untranslated = {**body, "questions": [{**questions[0], "texts": {"en": "Only English?"}}] * 3}
    refused = await notify.client.post("/v1/surveys/sets", headers=admin, json=untranslated)
    assert refused.status_code == 422
    assert refused.json()["type"].endswith("/missing-translations")
    teacher = await notify.client.post("/v1/surveys/sets", headers=staff(district), json=body)
    assert teacher.status_code == 403
    versions = [
        (await notify.client.post("/v1/surveys/sets", headers=admin, json=body)).json()["version"]
        for _ in range(2)
    ]
    assert versions == [1, 2]
    assert (
        await notify.client.put("/v1/surveys/settings", headers=admin, json={"min_answers": 4})
    ).status_code == 422
    assert (
        await notify.client.put("/v1/surveys/settings", headers=admin, json={"min_answers": 6})
    ).status_code == 200

    meeting = district.meeting(timedelta(hours=-3))
    await notify.publish(meeting, attended(district, family, meeting.meeting_id))
    token = {"Authorization": f"Bearer {district.token(family.guardians[0])}"}

    async def opened() -> bool:
        return bool((await get(notify, "/v1/surveys/mine", token, language="es"))[1]["items"])

    await eventually(opened, timeout=30, what="the district's survey")
    [survey] = (await get(notify, "/v1/surveys/mine", token, language="es"))[1]["items"]
    assert [q["text"] for q in survey["questions"]] == [f"[es] question {i}?" for i in (1, 2, 3)]
    status, found = await get(notify, "/v1/surveys/results", admin)
    assert status == 200
    assert (found["min_answers"], found["suppressed"]) == (6, True)
