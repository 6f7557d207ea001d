"""An unhandled error is logged without what the caller sent or who they are: no frame
variables, no request body, no query string, no principal (FERPA)."""

from __future__ import annotations

import io
import json

import httpx
from aptt_local.servers import LocalStack
from aptt_local.testing import random_id, running_app, service_settings
from aptt_platform.deps import CurrentUser
from aptt_platform.devissuer import DevIssuer
from aptt_platform.logging import configure_logging
from aptt_platform.runtime import ServiceDefinition, create_app
from aptt_platform.settings import ServiceSettings
from aptt_platform.web import RequestModel
from fastapi import APIRouter

MARKER = "Zelda-Quintana-7781"


class Reflection(RequestModel):
    student_id: str
    text: str


def failing_router() -> APIRouter:
    router = APIRouter()

    @router.post("/v1/students/{student_id}/reflections")
    async def reflect(student_id: str, body: Reflection, principal: CurrentUser) -> None:
        words = body.text
        who = principal
        raise RuntimeError("the reflection could not be kept") from KeyError((words, who))

    return router


async def test_an_unhandled_error_logs_no_body_query_or_principal(
    local_stack: LocalStack, dev_issuer: DevIssuer
) -> None:
    name = "logs" + random_id("t").replace("-", "")
    settings = ServiceSettings(**service_settings(local_stack, name, dev_issuer.issuer))
    app = create_app(
        ServiceDefinition(
            settings=settings, title="log test", description="", routers=[failing_router()]
        )
    )
    subject = random_id("guardian")
    student = random_id("student")
    token = dev_issuer.mint(
        subject=subject, district_id=random_id("d"), roles=["guardian"], student_ids=[student]
    )
    captured = io.StringIO()
    configure_logging(service=name, stream=captured)
    try:
        async with running_app(app) as url, httpx.AsyncClient(base_url=url, timeout=30) as client:
            answer = await client.post(
                f"/v1/students/{student}/reflections",
                params={"guardian": MARKER},
                json={"student_id": student, "text": f"{MARKER} cried at school " * 40},
                headers={"Authorization": f"Bearer {token}"},
            )
    finally:
        configure_logging(service=name)
    assert answer.status_code == 500
    assert answer.headers["content-type"] == "application/problem+json"

    logged = captured.getvalue()
    [record] = [
        json.loads(line)
        for line in logged.splitlines()
        if line.startswith("{") and "unhandled error" in line
    ]
    # What an operator needs: which route, which error, where it was raised.
    assert record["route"] == "/v1/students/{student_id}/reflections"
    assert "RuntimeError" in json.dumps(record["exception"])
    assert "test_private_logs.py" in json.dumps(record["exception"])
    for secret in (MARKER, subject, student, token):
        assert secret not in logged
