"""Steps of the APTT cycle that follow the team meeting: the teacher writes a personal note
to a family, the families' survey goes out, and a guardian answers it by texting a digit."""

from __future__ import annotations

from typing import Any, Protocol

import httpx
from aptt_local.sms_standin import read_sms
from aptt_local.testing import eventually

from .conftest import System


class FamilyLike(Protocol):
    @property
    def guardian(self) -> Any: ...

    @property
    def student(self) -> Any: ...


def _texts_to(system: System, phone: str) -> list[str]:
    return [m["body"] for m in read_sms(system.stack.sms_store) if m["to"] == phone]


async def personal_note_and_survey_answer(
    client: httpx.AsyncClient,
    system: System,
    district: str,
    teacher: dict[str, str],
    family: FamilyLike,
    meeting_id: str,
) -> None:
    """A Spanish-speaking guardian who came and texts: the note, once, then a survey digit."""
    notify = system.urls["notify"]
    phone = family.guardian.phone
    sent = await client.post(
        f"{notify}/v1/notes",
        headers=teacher,
        json={
            "note_id": f"{district}-first-note",
            "student_id": family.student.sourced_id,
            "kind": "builder",
            "phrases": {"went_well": "well.effort", "home_action": "home.read-20"},
            "skill_code": "orf",
        },
    )
    assert sent.status_code == 201, sent.text

    async def noted() -> bool:
        return any("En casa, lean juntos 20 minutos" in t for t in _texts_to(system, phone))

    await eventually(noted, timeout=180, what="the personal note")

    surveys = await client.post(f"{notify}/v1/surveys/meetings/{meeting_id}/send", headers=teacher)
    assert surveys.status_code == 200, surveys.text

    async def asked(number: int) -> bool:
        return any(t.startswith(f"Pregunta {number} de 4") for t in _texts_to(system, phone))

    await eventually(lambda: asked(1), timeout=180, what="the first survey question")
    answered = await client.post(
        f"{system.stack.sms_url}/_standin/inbound",
        json={
            "from": phone,
            "to": "+15005550006",
            "body": "5",
            "webhook_url": f"{notify}/v1/sms/inbound",
        },
    )
    assert answered.status_code == 200, answered.text
    await eventually(lambda: asked(2), timeout=180, what="the answer and the next question")
    admin = system.token(subject="admin-1", district_id=district, roles=["district_admin"])
    results = await client.get(
        f"{notify}/v1/surveys/results", headers=admin, params={"meeting_id": meeting_id}
    )
    assert results.status_code == 200, results.text
    assert results.json()["respondents"] >= 1
    assert results.json()["suppressed"] is True  # fewer than five answered yet
    notes = [t for t in _texts_to(system, phone) if "En casa, lean juntos 20 minutos" in t]
    assert len(notes) == 1
