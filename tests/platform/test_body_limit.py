"""Every route refuses a body over APTT_MAX_BODY_BYTES with a 413 problem before the body
is read whole; upload routes keep their own larger limit."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import httpx
import pytest
from aptt_local.servers import LocalStack
from aptt_local.testing import random_id, running_app, service_settings
from aptt_platform.devissuer import DevIssuer
from aptt_platform.runtime import ServiceDefinition, create_app
from aptt_platform.settings import ServiceSettings
from fastapi import APIRouter, Request

MIB = 1024 * 1024
UPLOAD = "/v1/uploads"


class Attendance:
    """A route that takes a JSON body, and one that takes an upload; counts what arrived."""

    def __init__(self) -> None:
        self.bodies = 0
        self.router = APIRouter()

        @self.router.post("/v1/meetings/{meeting_id}/attendance", status_code=204)
        async def record(meeting_id: str, attended: list[dict[str, str]]) -> None:
            self.bodies += 1

        @self.router.post(UPLOAD, status_code=204)
        async def upload(request: Request) -> None:
            await request.body()
            self.bodies += 1


@pytest.fixture(scope="module")
async def served(
    local_stack: LocalStack, dev_issuer: DevIssuer
) -> AsyncIterator[tuple[str, Attendance]]:
    routes = Attendance()
    name = "limit" + random_id("t").replace("-", "")
    settings = ServiceSettings(**service_settings(local_stack, name, dev_issuer.issuer))
    app = create_app(
        ServiceDefinition(
            settings=settings,
            title="body limit test",
            description="",
            routers=[routes.router],
            upload_limits={UPLOAD: 3 * MIB},
        )
    )
    async with running_app(app) as url:
        yield url, routes


def attendance(size: int) -> bytes:
    row = json.dumps({"student_id": "s-0123456789", "status": "present"})
    return ("[" + ",".join([row] * (size // (len(row) + 1))) + "]").encode()


async def raw_request(url: str, head: str, body: bytes) -> tuple[int, dict[str, object]]:
    """Send a request head and only `body` of it, then read the answer: a server that
    answers has not waited for (or read) the rest."""
    parts = urlsplit(url)
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
    try:
        writer.write(head.encode() + body)
        await writer.drain()
        status_line = await asyncio.wait_for(reader.readline(), 30)
        headers = {}
        while (line := await reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode().partition(":")
            headers[name.strip().lower()] = value.strip()
        answer = await reader.readexactly(int(headers["content-length"]))
        assert headers["content-type"] == "application/problem+json"
        return int(status_line.split()[1]), json.loads(answer)
    finally:
        writer.close()


async def test_a_21_mb_attendance_body_is_refused_before_it_is_read(
    served: tuple[str, Attendance],
) -> None:
    url, routes = served
    path = "/v1/meetings/m-1/attendance"
    head = (
        f"POST {path} HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
        f"Content-Length: {21 * MIB}\r\n\r\n"
    )
    # 64 KiB of the 21 MiB: the answer comes without the rest.
    status, problem = await raw_request(url, head, attendance(21 * MIB)[: 64 * 1024])
    assert status == 413
    assert problem["type"] == "https://aptt.org/problems/payload-too-large"
    assert problem["limit_bytes"] == MIB
    assert "request bodies are limited to 1,048,576 bytes" in str(problem["detail"])
    assert routes.bodies == 0


async def test_a_chunked_body_is_cut_off_at_the_limit(served: tuple[str, Attendance]) -> None:
    url, routes = served
    head = (
        "POST /v1/meetings/m-1/attendance HTTP/1.1\r\nHost: test\r\n"
        "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    data = attendance(MIB * 5 // 2)
    chunks = (
        b"".join(
            f"{len(data[i : i + 65536]):x}\r\n".encode() + data[i : i + 65536] + b"\r\n"
            for i in range(0, len(data), 65536)
        )
        + b"0\r\n\r\n"
    )
    status, problem = await raw_request(url, head, chunks)
    assert status == 413
    assert problem["limit_bytes"] == MIB
    assert routes.bodies == 0


async def test_bodies_within_their_limits_are_taken(served: tuple[str, Attendance]) -> None:
    url, routes = served
    before = routes.bodies
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        fits = await client.post(
            "/v1/meetings/m-1/attendance",
            content=attendance(MIB - 1024),
            headers={"content-type": "application/json"},
        )
        assert fits.status_code == 204, fits.text
        # An upload route keeps its own, larger limit ...
        upload = await client.post(UPLOAD, content=b"\0" * (2 * MIB))
        assert upload.status_code == 204
        # ... and a limit still.
        too_large = await client.post(UPLOAD, content=b"\0" * (4 * MIB))
        assert too_large.status_code == 413
        assert "uploads are limited to" in too_large.json()["detail"]
    assert routes.bodies == before + 2
