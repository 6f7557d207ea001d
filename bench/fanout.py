"""One team meeting to every family of a large district, through notify to the local SMTP
sink and SMS stand-in (issue 7).

First the raw rates of the two sinks, in the same run: small mails over as many reused SMTP
connections as notify's sender keeps, and POSTs to the stand-in's Messages API from as many
concurrent clients as the sender's SMS pool. Then notify runs in-process with its sender
workers; a generated district of `APTT_BENCH_FANOUT_GUARDIANS` guardians (2,000 by default;
half reached by SMS, half by email; classes of 25) is published as the data service would,
and once notify knows every contact (not timed) each classroom's TeamMeetingScheduled is
published. The clock runs from the first meeting event to the last delivery recorded sent.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import aiosmtplib
import httpx
import uvicorn
from aiokafka import AIOKafkaProducer
from aptt_contracts.data import (
    ClassroomUpserted,
    GuardianContactUpdated,
    SchoolUpserted,
    StudentUpserted,
)
from aptt_contracts.envelope import EventModel
from aptt_contracts.scheduling import TeamMeetingScheduled
from aptt_local.process import free_port
from aptt_local.servers import LocalStack
from aptt_local.sms_standin import API_VERSION, read_sms
from aptt_local.smtp_sink import read_mail
from aptt_local.testing import eventually, running_app, service_settings, zone_at_local_hour
from aptt_notify.main import build_app
from aptt_notify.settings import Settings
from aptt_platform.devissuer import DevIssuer
from aptt_platform.events import encode
from aptt_platform.tracing import new_trace
from pymongo import AsyncMongoClient

from bench.figures import Figures, timed

GUARDIANS = int(os.environ.get("APTT_BENCH_FANOUT_GUARDIANS", "2000"))
CLASS_SIZE = 25
AIM = 200.0  # messages/s, issue 7
# notify's production defaults for its provider pools: the raw rates use the same counts.
EMAIL_CONNECTIONS = Settings.model_fields["email_concurrency"].default
SMS_CLIENTS = Settings.model_fields["sms_concurrency"].default
# Far above what the sinks take, so neither the district's hourly cap nor a channel's rate
# gate bounds the bench; batch size, pools and poll interval stay notify's defaults.
UNBOUNDED = {
    "rate_limit_district_per_hour": 100_000_000,
    "sms_rate_per_second": 100_000.0,
    "email_rate_per_second": 100_000.0,
}


async def run(stack: LocalStack, figures: Figures, state: Path) -> None:
    figures.raw_rate("SMTP sink", await smtp_rate(stack), "msg/s")
    figures.raw_rate("SMS stand-in", await sms_rate(stack), "msg/s")
    await _fan_out(stack, figures, state)


async def smtp_rate(stack: LocalStack, n: int = 1000) -> float:
    """Small mails per second into the sink, over reused connections as the sender does."""
    domain = f"raw-{uuid.uuid4().hex[:6]}.example.org"

    async def connection(offset: int) -> None:
        smtp = aiosmtplib.SMTP(hostname=stack.smtp_host, port=stack.smtp_port, timeout=30)
        await smtp.connect()
        try:
            for i in range(offset, n, EMAIL_CONNECTIONS):
                mail = EmailMessage()
                mail["From"] = "bench@aptt.localhost"
                mail["To"] = f"r{i}@{domain}"
                mail["Subject"] = "Team meeting"
                mail.set_content("A team meeting on Thursday at 6 pm in Room 12.")
                await smtp.send_message(mail)
        finally:
            await smtp.quit()

    with timed() as t:
        await asyncio.gather(*(connection(c) for c in range(EMAIL_CONNECTIONS)))
    return n / t[0]


async def sms_rate(stack: LocalStack, n: int = 1000) -> float:
    """Messages API POSTs per second the stand-in accepts, from concurrent clients."""
    url = (
        f"{stack.sms_url.rstrip('/')}/{API_VERSION}/Accounts/{stack.sms_account_sid}/Messages.json"
    )
    limits = httpx.Limits(max_connections=SMS_CLIENTS, max_keepalive_connections=SMS_CLIENTS)
    async with httpx.AsyncClient(
        auth=(stack.sms_account_sid, stack.sms_auth_token), limits=limits, timeout=30
    ) as http:

        async def client(offset: int) -> None:
            for i in range(offset, n, SMS_CLIENTS):
                response = await http.post(
                    url,
                    data={
                        "To": f"+1650555{i % 10_000:04d}",
                        "From": "+15005550006",
                        "Body": "A team meeting on Thursday at 6 pm in Room 12.",
                    },
                )
                response.raise_for_status()

        with timed() as t:
            await asyncio.gather(*(client(c) for c in range(SMS_CLIENTS)))
    return n / t[0]


class District:
    """A generated district as the data service publishes it: one school, classes of 25,
    one guardian per student, even ones reached by SMS and odd ones by email."""

    def __init__(self, guardians: int) -> None:
        tag = uuid.uuid4().hex[:6]
        self.district_id = f"d-fanout-{tag}"
        self.school_id = f"sch-{tag}"
        # Daytime at the school, or quiet hours would hold the SMS back.
        self.timezone = zone_at_local_hour(13)
        self.phones = [_phone(i) for i in range(0, guardians, 2)]
        self.emails = [f"g{i}@fanout-{tag}.example.org" for i in range(1, guardians, 2)]
        self.students = [f"stu-{tag}-{i}" for i in range(guardians)]
        self.classrooms = {
            f"cls-{tag}-{c}": self.students[start : start + CLASS_SIZE]
            for c, start in enumerate(range(0, guardians, CLASS_SIZE))
        }

    def roster_events(self) -> list[EventModel]:
        d, school = self.district_id, self.school_id
        events: list[EventModel] = [
            SchoolUpserted(district_id=d, school_id=school, timezone=self.timezone)
        ]
        events += [
            ClassroomUpserted(
                district_id=d,
                classroom_id=classroom,
                school_id=school,
                grade=3,
                teacher_ids=[f"t-{classroom}"],
                student_ids=students,
            )
            for classroom, students in self.classrooms.items()
        ]
        for i, student in enumerate(self.students):
            guardian = f"g-{student}"
            events.append(
                StudentUpserted(
                    district_id=d,
                    student_id=student,
                    school_id=school,
                    grade=3,
                    guardian_ids=[guardian],
                )
            )
            events.append(
                GuardianContactUpdated(
                    district_id=d,
                    guardian_id=guardian,
                    given_name="Ana",
                    family_name="Pérez",
                    preferred_language="en",
                    email=self.emails[i // 2] if i % 2 else None,
                    phone=None if i % 2 else self.phones[i // 2],
                    student_ids=[student],
                    school_ids=[school],
                )
            )
        return events

    def meetings(self) -> list[TeamMeetingScheduled]:
        starts_at = (datetime.now(UTC) + timedelta(days=3)).replace(microsecond=0)
        return [
            TeamMeetingScheduled(
                district_id=self.district_id,
                meeting_id=f"m-{classroom}",
                classroom_id=classroom,
                school_id=self.school_id,
                starts_at=starts_at,
                duration_minutes=75,
                focus_skill_code="orf",
                location="Room 12",
            )
            for classroom in self.classrooms
        ]


def _phone(i: int) -> str:
    # 650-2xx-xxxx: a valid North American number for every i below ten million.
    return f"+1650{2_000_000 + i:07d}"


async def publish(producer: AIOKafkaProducer, events: list[EventModel]) -> None:
    """As a producer's relay does: CloudEvents headers, the aggregate's key, all in flight."""
    pending = []
    for event in events:
        headers, key, value = encode(event, traceparent=new_trace().traceparent)
        pending.append(
            await producer.send(
                event.topic,
                value=value,
                key=key.encode(),
                headers=[(k, v.encode()) for k, v in headers.items()],
            )
        )
    await asyncio.gather(*pending)


async def _fan_out(stack: LocalStack, figures: Figures, state: Path) -> None:
    port = free_port()
    issuer = DevIssuer(f"http://127.0.0.1:{port}", state / "bench-fanout-issuer.pem")
    issuer_server = uvicorn.Server(
        uvicorn.Config(issuer.app(), host="127.0.0.1", port=port, log_config=None)
    )
    issuer_task = asyncio.create_task(issuer_server.serve())
    settings = Settings(
        **service_settings(
            stack,
            "notify",
            issuer.issuer,
            log_level="WARNING",
            smtp_host=stack.smtp_host,
            smtp_port=stack.smtp_port,
            sms_api_url=stack.sms_url,
            sms_account_sid=stack.sms_account_sid,
            sms_auth_token=stack.sms_auth_token,
            default_timezone="UTC",
            **UNBOUNDED,
        )
    )
    mongo: AsyncMongoClient[Any] = AsyncMongoClient(stack.mongo_url, tz_aware=True)
    db = mongo[settings.database_name]
    district = District(GUARDIANS)
    query = {"district_id": district.district_id}
    producer = AIOKafkaProducer(bootstrap_servers=stack.kafka_bootstrap, acks="all", linger_ms=5)
    await producer.start()
    try:
        async with running_app(build_app(settings)):
            await publish(producer, district.roster_events())

            async def known() -> bool:
                contacts = {**query, "contact": {"$ne": None}}
                return await db["guardians"].count_documents(contacts) >= GUARDIANS

            with timed() as rostering:
                await eventually(known, timeout=3600, what="notify to know every contact")

            async def sent() -> bool:
                return await db["deliveries"].count_documents({**query, "status": "sent"}) >= (
                    GUARDIANS
                )

            with timed() as fanning:
                await publish(producer, list(district.meetings()))
                await eventually(sent, timeout=3600, what="every delivery sent")
            deliveries = await db["deliveries"].count_documents(query)
        phones, emails = set(district.phones), set(district.emails)
        sms = Counter(m["to"] for m in read_sms(stack.sms_store) if m["to"] in phones)
        mails = Counter(
            to for mail in read_mail(stack.maildir) for to in mail.envelope_to if to in emails
        )
    finally:
        await producer.stop()
        await mongo.drop_database(settings.database_name)
        await mongo.close()
        issuer_server.should_exit = True
        await issuer_task
    received = sum(sms.values()) + sum(mails.values())
    twice = sum(1 for count in (*sms.values(), *mails.values()) if count > 1)
    unreached = len(phones - set(sms)) + len(emails - set(mails))
    rate = GUARDIANS / fanning[0]
    figures.note(
        f"fan-out to {GUARDIANS:,} guardians",
        f"{fanning[0]:6.1f} s from {len(district.classrooms):,} meetings to the last sent; "
        f"{deliveries:,} deliveries, {sum(sms.values()):,} SMS + {sum(mails.values()):,} "
        f"emails received (roster known after {rostering[0]:.0f} s, not timed)",
    )
    figures.rate("fan-out messages sent", rate, "msg/s", against="SMS stand-in")
    figures.rate("fan-out messages sent", rate, "msg/s", against="SMTP sink")
    figures.note(
        "fan-out aim",
        f">= {AIM:.0f} msg/s: {'ok' if rate >= AIM else 'BELOW AIM'}; "
        f"sent twice {twice}, unreached {unreached}, received {received:,}",
    )
    figures.note(
        "fan-out settings",
        "district cap and sms/email rates raised to "
        f"{UNBOUNDED['rate_limit_district_per_hour']:,}/h and "
        f"{UNBOUNDED['sms_rate_per_second']:,.0f}/s; sender batch, pools "
        f"(sms {SMS_CLIENTS}, email {EMAIL_CONNECTIONS}) and poll interval at defaults",
    )
