"""Helpers for the notify tests: a running notify app, districts with families, and readers
for what reached the SMTP sink and the SMS stand-in."""

from __future__ import annotations

import contextlib
import random
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import phonenumbers
from aiokafka import AIOKafkaProducer
from aptt_contracts.data import (
    ClassroomUpserted,
    GuardianContactUpdated,
    SchoolUpserted,
    StudentUpserted,
)
from aptt_contracts.envelope import EventModel
from aptt_contracts.scheduling import TeamMeetingScheduled
from aptt_local.servers import LocalStack
from aptt_local.sms_standin import read_sms
from aptt_local.smtp_sink import ReceivedMail, read_mail
from aptt_local.testing import (
    eventually,
    random_id,
    running_app,
    service_settings,
    zone_at_local_hour,
)
from aptt_notify.main import build_app
from aptt_notify.settings import Settings
from aptt_notify.workers import Sender
from aptt_platform.devissuer import DevIssuer
from aptt_platform.events import encode
from aptt_platform.mongo import Document
from aptt_platform.tracing import new_trace
from fastapi import FastAPI
from prometheus_client import REGISTRY

# How long a test waits for notify to act: generous, because the whole suite shares two
# cores with the servers, and a module's first notify works through the events other
# modules left on the broker, where a contended batch has waited on the driver's retries of
# its transaction for more than 90 s; a wait that ends early costs nothing.
WAIT = 180.0


def random_phone() -> str:
    while True:
        number = f"+1650{random.randint(2, 9)}{random.randint(0, 999999):06d}"
        if phonenumbers.is_valid_number(phonenumbers.parse(number)):
            return number


def random_email() -> str:
    return f"{uuid.uuid4().hex[:12]}@example.org"


DAYTIME = 13
NIGHT = 2


@dataclass
class Guardian:
    guardian_id: str
    given_name: str
    language: str
    phone: str | None
    email: str | None
    student_ids: list[str] = field(default_factory=list)


@dataclass
class Family:
    student_id: str
    guardians: list[Guardian]


class District:
    """One district with one school and one classroom, built as events the data service
    would publish."""

    def __init__(self, notify: NotifyApp, *, local_hour: int = DAYTIME) -> None:
        self.notify = notify
        self.district_id = random_id("d")
        self.school_id = random_id("sch")
        self.classroom_id = random_id("cls")
        self.timezone = zone_at_local_hour(local_hour)
        self.families: list[Family] = []

    def family(self, *specs: dict[str, Any]) -> Family:
        """specs: per guardian, `phone`/`email` (True for a fresh one, or a value), `language`."""
        student_id = random_id("stu")
        guardians = []
        for spec in specs or ({},):
            phone = spec.get("phone", True)
            email = spec.get("email", False)
            guardians.append(
                Guardian(
                    guardian_id=random_id("g"),
                    given_name=spec.get("given_name", "Ana"),
                    language=spec.get("language", "en"),
                    phone=random_phone() if phone is True else (phone or None),
                    email=random_email() if email is True else (email or None),
                    student_ids=[student_id],
                )
            )
        family = Family(student_id, guardians)
        self.families.append(family)
        return family

    def school_event(self) -> SchoolUpserted:
        return SchoolUpserted(
            district_id=self.district_id, school_id=self.school_id, timezone=self.timezone
        )

    def classroom_event(self) -> ClassroomUpserted:
        return ClassroomUpserted(
            district_id=self.district_id,
            classroom_id=self.classroom_id,
            school_id=self.school_id,
            grade=3,
            teacher_ids=["t-1"],
            student_ids=[f.student_id for f in self.families],
        )

    def student_event(self, family: Family) -> StudentUpserted:
        return StudentUpserted(
            district_id=self.district_id,
            student_id=family.student_id,
            school_id=self.school_id,
            grade=3,
            guardian_ids=[g.guardian_id for g in family.guardians],
        )

    def contact_event(self, guardian: Guardian) -> GuardianContactUpdated:
        return GuardianContactUpdated(
            district_id=self.district_id,
            guardian_id=guardian.guardian_id,
            given_name=guardian.given_name,
            family_name="Pérez",
            preferred_language=guardian.language,
            email=guardian.email,
            phone=guardian.phone,
            student_ids=guardian.student_ids,
            school_ids=[self.school_id],
        )

    def roster_events(self) -> list[EventModel]:
        found: list[EventModel] = [self.school_event(), self.classroom_event()]
        found += [self.student_event(f) for f in self.families]
        found += [self.contact_event(g) for f in self.families for g in f.guardians]
        return found

    async def publish_roster(self, *, wait: bool = True, timeout: float | None = None) -> None:
        """Publish the roster and, unless told not to, wait until notify knows every contact."""
        await self.notify.publish(*self.roster_events())
        if not wait:
            return
        wanted = {g.guardian_id for f in self.families for g in f.guardians}

        async def known() -> bool:
            found = await (
                self.notify.db["guardians"]
                .find(
                    {"district_id": self.district_id, "guardian_id": {"$in": list(wanted)}},
                    {"contact": 1},
                )
                .to_list()
            )
            return sum(doc.get("contact") is not None for doc in found) == len(wanted)

        await eventually(
            known,
            timeout=timeout or WAIT,
            what="the contacts to arrive",
            explain=self.notify.consumer_state,
        )

    def meeting(self, starts_in: timedelta, **extra: Any) -> TeamMeetingScheduled:
        return TeamMeetingScheduled(
            district_id=self.district_id,
            meeting_id=random_id("m"),
            classroom_id=self.classroom_id,
            school_id=self.school_id,
            starts_at=(datetime.now(UTC) + starts_in).replace(microsecond=0),
            duration_minutes=75,
            focus_skill_code="orf",
            **extra,
        )

    def token(self, guardian: Guardian, district_id: str | None = None) -> str:
        return self.notify.issuer.mint(
            subject=guardian.guardian_id,
            district_id=district_id or self.district_id,
            roles=["guardian"],
            student_ids=guardian.student_ids,
        )


@dataclass
class NotifyApp:
    app: FastAPI
    url: str
    settings: Settings
    stack: LocalStack
    issuer: DevIssuer
    client: httpx.AsyncClient
    producer: AIOKafkaProducer

    @property
    def sender(self) -> Sender:
        sender = self.app.state.runtime.state["sender"]
        assert isinstance(sender, Sender)
        return sender

    @property
    def db(self) -> Any:
        return self.app.state.runtime.mongo.db

    def consumer_state(self) -> str:
        consumer = self.app.state.runtime.consumer
        return "\n".join(consumer.describe()) if consumer is not None else "no consumer"

    def district(self, *, local_hour: int = DAYTIME) -> District:
        return District(self, local_hour=local_hour)

    async def publish(self, *events: EventModel, event_id: str | None = None) -> list[str]:
        """Publish as a producer's relay does; returns the CloudEvents ids."""
        ids = []
        for event in events:
            headers, key, value = encode(
                event, traceparent=new_trace().traceparent, event_id=event_id
            )
            await self.producer.send_and_wait(
                event.topic,
                value=value,
                key=key.encode(),
                headers=[(k, v.encode()) for k, v in headers.items()],
            )
            ids.append(headers["ce_id"])
        return ids

    def sms_to(self, phone: str | None) -> list[dict[str, Any]]:
        return [m for m in read_sms(self.stack.sms_store) if m["to"] == phone]

    def mail_to(self, address: str | None) -> list[ReceivedMail]:
        return [m for m in read_mail(self.stack.maildir) if address in m.envelope_to]

    async def wait_sms(self, phone: str | None, count: int = 1) -> list[dict[str, Any]]:
        async def arrived() -> bool:
            return len(self.sms_to(phone)) >= count

        await eventually(arrived, timeout=WAIT, what=f"{count} SMS", explain=self.consumer_state)
        return self.sms_to(phone)

    async def wait_mail(self, address: str | None, count: int = 1) -> list[ReceivedMail]:
        async def arrived() -> bool:
            return len(self.mail_to(address)) >= count

        await eventually(arrived, timeout=WAIT, what=f"{count} emails", explain=self.consumer_state)
        return self.mail_to(address)

    async def inbox(self, token: str, **params: Any) -> list[dict[str, Any]]:
        response = await self.client.get(
            "/v1/me/messages", params=params, headers={"Authorization": f"Bearer {token}"}
        )
        assert response.status_code == 200, response.text
        items: list[dict[str, Any]] = response.json()["items"]
        return items

    async def wait_inbox(self, token: str, count: int = 1, **match: Any) -> list[dict[str, Any]]:
        async def arrived() -> bool:
            items = await self.inbox(token)
            return len([i for i in items if match.items() <= i.items()]) >= count

        await eventually(
            arrived,
            timeout=WAIT,
            what=f"{count} inbox messages like {match}",
            explain=self.consumer_state,
        )
        return [i for i in await self.inbox(token) if match.items() <= i.items()]

    async def messages(self, district_id: str, **query: Any) -> list[Document]:
        found: list[Document] = (
            await self.db["messages"].find({"district_id": district_id, **query}).to_list()
        )
        return found

    async def deliveries(self, district_id: str, **query: Any) -> list[Document]:
        found: list[Document] = (
            await self.db["deliveries"].find({"district_id": district_id, **query}).to_list()
        )
        return found


def sent_total(channel: str, outcome: str) -> float:
    value = REGISTRY.get_sample_value(
        "aptt_messages_sent_total", {"app": "notify", "channel": channel, "outcome": outcome}
    )
    return value or 0.0


def notify_settings(stack: LocalStack, issuer: DevIssuer, **overrides: Any) -> Settings:
    values = service_settings(
        stack,
        "notify",
        issuer.issuer,
        smtp_host=stack.smtp_host,
        smtp_port=stack.smtp_port,
        sms_api_url=stack.sms_url,
        sms_account_sid=stack.sms_account_sid,
        sms_auth_token=stack.sms_auth_token,
        sender_poll_interval_seconds=0.1,
        sender_lease_seconds=3,
        send_retry_base_seconds=0.2,
        send_retry_max_seconds=1.0,
        rate_limit_recipient_per_hour=8,
        rate_limit_district_per_hour=1000,
        # Changes to one meeting within a second reach families as one notice (0542).
        meeting_change_window_seconds=1,
        # Tests name every school's zone; UTC until then makes a zone's arrival visible.
        default_timezone="UTC",
    )
    values.update(overrides)
    return Settings(**values)


@contextlib.asynccontextmanager
async def running_notify(
    stack: LocalStack, issuer: DevIssuer, **overrides: Any
) -> AsyncIterator[NotifyApp]:
    settings = notify_settings(stack, issuer, **overrides)
    app = build_app(settings)
    producer = AIOKafkaProducer(bootstrap_servers=stack.kafka_bootstrap, acks="all")
    await producer.start()
    try:
        async with running_app(app) as url, httpx.AsyncClient(base_url=url, timeout=30) as client:
            yield NotifyApp(app, url, settings, stack, issuer, client, producer)
    finally:
        await producer.stop()


def texts(messages: Sequence[dict[str, Any]]) -> list[str]:
    return [m["body"] for m in messages]
