"""The local servers, exercised for real: Tansu, SecantusDB, the SMTP sink, the SMS stand-in."""

from __future__ import annotations

import asyncio
import os
import re
import smtplib
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import aiosmtplib
import httpx
import pymongo.errors
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aptt_local.servers import (
    LocalStack,
    S3Server,
    SecantusServer,
    ServerStartError,
    SmtpSink,
    TansuBroker,
)
from aptt_local.sms_standin import read_sms, twilio_signature
from aptt_local.smtp_sink import read_mail
from aptt_platform.sms import count_segments
from pymongo import AsyncMongoClient

GUARDIAN_PHONE = "+14155552671"
SCHOOL_PHONE = "+12025550143"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


# Kafka (Tansu)


async def test_kafka_record_round_trip(local_stack: LocalStack) -> None:
    topic = f"aptt.test.roundtrip-{uuid.uuid4().hex[:8]}.v1"
    admin = AIOKafkaAdminClient(bootstrap_servers=local_stack.kafka_bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, num_partitions=1, replication_factor=1)])
    finally:
        await admin.close()

    producer = AIOKafkaProducer(bootstrap_servers=local_stack.kafka_bootstrap)
    await producer.start()
    try:
        sent = await producer.send_and_wait(
            topic, b'{"ok": true}', key=b"d1:goal-1", headers=[("ce_id", b"evt-1")]
        )
    finally:
        await producer.stop()
    assert sent.offset == 0

    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=local_stack.kafka_bootstrap,
        group_id=f"test-{uuid.uuid4().hex[:8]}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        session_timeout_ms=6000,
        heartbeat_interval_ms=500,
    )
    await consumer.start()
    try:
        record = await asyncio.wait_for(consumer.getone(), timeout=30)
        assert (record.key, record.value) == (b"d1:goal-1", b'{"ok": true}')
        assert list(record.headers) == [("ce_id", b"evt-1")]
        await consumer.commit()
        partition = TopicPartition(topic, 0)
        # Lag as the platform computes it on this broker: highwater minus committed.
        assert consumer.highwater(partition) == 1
        assert await consumer.committed(partition) == 1
    finally:
        await consumer.stop()


async def test_kafka_restart_keeps_topics_records_and_committed_offsets(tmp_path: Path) -> None:
    # Its own broker and S3 server, so the restart does not disturb the other tests.
    s3 = S3Server(tmp_path)
    broker = TansuBroker(tmp_path, s3=s3)
    s3.start()
    broker.start()
    topic = f"aptt.test.durable-{uuid.uuid4().hex[:8]}.v1"
    group = f"test-{uuid.uuid4().hex[:8]}"
    try:
        admin = AIOKafkaAdminClient(bootstrap_servers=broker.bootstrap)
        await admin.start()
        try:
            await admin.create_topics([NewTopic(topic, num_partitions=2, replication_factor=1)])
        finally:
            await admin.close()
        producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap, acks="all")
        await producer.start()
        try:
            for i in range(6):
                await producer.send_and_wait(topic, f"r{i}".encode(), partition=i % 2)
        finally:
            await producer.stop()
        consumer = _group_consumer(broker.bootstrap, group)
        await consumer.start()
        try:
            consumer.assign([TopicPartition(topic, 0), TopicPartition(topic, 1)])
            await consumer.commit({TopicPartition(topic, 0): 2, TopicPartition(topic, 1): 1})
        finally:
            await consumer.stop()

        port = broker.port
        await asyncio.to_thread(broker.stop)
        await asyncio.to_thread(broker.start)
        assert broker.port == port

        consumer = _group_consumer(broker.bootstrap, group)
        await consumer.start()
        try:
            parts = [TopicPartition(topic, 0), TopicPartition(topic, 1)]
            assert await consumer.committed(parts[0]) == 2
            assert await consumer.committed(parts[1]) == 1
            consumer.assign(parts)
            for tp in parts:
                consumer.seek(tp, 0)
            values: list[bytes] = []
            while len(values) < 6:
                batch = await asyncio.wait_for(consumer.getmany(timeout_ms=1000), timeout=30)
                values += [r.value for records in batch.values() for r in records if r.value]
            assert sorted(values) == [f"r{i}".encode() for i in range(6)]
        finally:
            await consumer.stop()
    finally:
        await asyncio.to_thread(broker.stop)
        await asyncio.to_thread(s3.stop)


def _group_consumer(bootstrap: str, group: str) -> AIOKafkaConsumer:
    return AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )


# MongoDB wire protocol (SecantusDB)


@pytest.fixture
async def mongo(local_stack: LocalStack) -> AsyncIterator[AsyncMongoClient[dict[str, Any]]]:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        local_stack.mongo_url, serverSelectionTimeoutMS=10_000
    )
    try:
        yield client
    finally:
        await client.close()


async def test_mongo_insert_and_find(mongo: AsyncMongoClient[dict[str, Any]]) -> None:
    db = mongo[f"test_{uuid.uuid4().hex[:8]}"]
    await db.goals.insert_one({"district_id": "d1", "goal": "read 20 minutes a day"})
    found = await db.goals.find_one({"district_id": "d1"}, {"_id": False})
    assert found == {"district_id": "d1", "goal": "read 20 minutes a day"}


async def test_mongo_multi_document_transaction(mongo: AsyncMongoClient[dict[str, Any]]) -> None:
    db = mongo[f"test_{uuid.uuid4().hex[:8]}"]
    await db.create_collection("bookings")
    await db.create_collection("outbox")

    async def book(booking: str, event: str, *, fail: bool) -> None:
        async with mongo.start_session() as session, await session.start_transaction():
            await db.bookings.insert_one({"_id": booking}, session=session)
            await db.outbox.insert_one({"_id": event, "type": "booked"}, session=session)
            # Not visible outside the transaction until it commits.
            assert await db.bookings.find_one({"_id": booking}) is None
            if fail:
                raise RuntimeError("handler failed")

    await book("b1", "e1", fail=False)
    assert await db.bookings.find_one({"_id": "b1"}) is not None
    assert await db.outbox.find_one({"_id": "e1"}) is not None

    with pytest.raises(RuntimeError, match="handler failed"):
        await book("b2", "e2", fail=True)
    assert await db.bookings.find_one({"_id": "b2"}) is None
    assert await db.outbox.find_one({"_id": "e2"}) is None


async def test_mongo_restart_keeps_data_on_the_same_port(
    local_stack: LocalStack, mongo: AsyncMongoClient[dict[str, Any]]
) -> None:
    db = mongo[f"test_{uuid.uuid4().hex[:8]}"]
    await db.notes.insert_one({"_id": "n1", "text": "kept"})
    port, pid = local_stack.mongo.port, local_stack.mongo.pid
    assert pid is not None

    await asyncio.to_thread(local_stack.mongo.stop)
    try:
        assert not _pid_alive(pid)
        probe: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
            local_stack.mongo_url, serverSelectionTimeoutMS=300
        )
        try:
            with pytest.raises(pymongo.errors.ConnectionFailure):
                await probe.admin.command("ping")
        finally:
            await probe.close()
    finally:
        await asyncio.to_thread(local_stack.mongo.start)

    assert local_stack.mongo.port == port
    assert local_stack.mongo.pid not in (None, pid)
    # The client from before the restart reconnects by itself, as a service's would.
    assert await db.notes.find_one({"_id": "n1"}) == {"_id": "n1", "text": "kept"}


def test_a_server_that_exits_at_start_reports_its_log(tmp_path: Path) -> None:
    broken = SecantusServer(tmp_path)
    broken.config_file.parent.mkdir(parents=True)
    broken.config_file.write_text("this is [not toml\n")
    with pytest.raises(ServerStartError) as failure:
        broken.start(timeout=30)
    report = str(failure.value)
    assert "secantus exited with code 2 before it was ready" in report
    assert str(broken.log_path) in report
    assert "secantusdb:" in report  # the server's own complaint, from the log tail
    assert broken.pid is None


def test_a_taken_port_is_refused_before_spawning(local_stack: LocalStack, tmp_path: Path) -> None:
    # The readiness probe would otherwise be answered by the server already on the port.
    intruder = SecantusServer(tmp_path, port=local_stack.mongo.port)
    with pytest.raises(ServerStartError, match="already in use by another process"):
        intruder.start()
    assert intruder.pid is None


class _NeverReadySink(SmtpSink):
    def probe(self) -> None:
        raise ConnectionError("not today")


def test_a_server_that_never_answers_is_stopped_with_its_log(tmp_path: Path) -> None:
    sink = _NeverReadySink(tmp_path)
    with pytest.raises(ServerStartError) as failure:
        sink.start(timeout=1)
    report = str(failure.value)
    assert "did not answer" in report
    assert "not today" in report
    assert "smtp sink listening" in report
    assert sink.pid is None
    assert "stopped (exit code 0)" in sink.log_path.read_text()


# Mail (SMTP sink)


async def test_smtp_multipart_mail_is_kept_with_its_envelope(local_stack: LocalStack) -> None:
    subject = f"Conference reminder {uuid.uuid4().hex[:8]}"
    message = EmailMessage()
    message["From"] = "Lincoln Elementary <school@aptt.test>"
    message["To"] = "guardian@example.org"
    message["Subject"] = subject
    message.set_content("Your conference is on Tuesday at 4 pm.")
    message.add_alternative("<p>Your conference is on <b>Tuesday</b> at 4 pm.</p>", subtype="html")

    await aiosmtplib.send(
        message,
        hostname=local_stack.smtp_host,
        port=local_stack.smtp_port,
        sender="bounces@aptt.test",
        recipients=["guardian@example.org", "teacher@example.org"],
        username="notify",
        password="local",
    )

    [mail] = [m for m in read_mail(local_stack.maildir) if m.subject == subject]
    assert mail.envelope_from == "bounces@aptt.test"
    assert mail.envelope_to == ["guardian@example.org", "teacher@example.org"]
    assert mail.auth_login == "notify"
    assert mail.message["To"] == "guardian@example.org"
    assert mail.message.get_content_type() == "multipart/alternative"
    assert mail.body("plain") == "Your conference is on Tuesday at 4 pm.\n"
    assert mail.body("html") == "<p>Your conference is on <b>Tuesday</b> at 4 pm.</p>\n"
    assert mail.path.suffix == ".eml"


def test_smtp_sink_lists_its_maildir(local_stack: LocalStack) -> None:
    subject = f"Survey {uuid.uuid4().hex[:8]}"
    with smtplib.SMTP(local_stack.smtp_host, local_stack.smtp_port) as smtp:
        smtp.sendmail("school@aptt.test", ["guardian@example.org"], f"Subject: {subject}\n\nhi\n")
    listing = subprocess.run(
        [sys.executable, "-m", "aptt_local.smtp_sink", "--list", str(local_stack.maildir)],
        capture_output=True,
        text=True,
        check=True,
    )
    [line] = [line for line in listing.stdout.splitlines() if subject in line]
    assert "school@aptt.test -> guardian@example.org" in line


# SMS (Twilio Messages API stand-in)


@pytest.fixture
async def twilio(local_stack: LocalStack) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        base_url=f"{local_stack.sms_url}/2010-04-01/Accounts/{local_stack.sms_account_sid}",
        auth=(local_stack.sms_account_sid, local_stack.sms_auth_token),
    ) as client:
        yield client


async def test_sms_is_accepted_stored_and_listed(
    local_stack: LocalStack, twilio: httpx.AsyncClient
) -> None:
    body = f"Reminder: conference Tuesday 4 pm ({uuid.uuid4().hex[:6]})"
    answer = await twilio.post(
        "/Messages.json", data={"To": GUARDIAN_PHONE, "From": SCHOOL_PHONE, "Body": body}
    )
    assert answer.status_code == 201, answer.text
    message = answer.json()
    assert re.fullmatch(r"SM[0-9a-f]{32}", message["sid"])
    assert message["status"] == "queued"
    assert (message["to"], message["from"], message["body"]) == (GUARDIAN_PHONE, SCHOOL_PHONE, body)
    assert message["num_segments"] == "1"
    assert message["account_sid"] == local_stack.sms_account_sid
    assert message["uri"].endswith(f"/Messages/{message['sid']}.json")
    assert message["date_created"].endswith("+0000")

    stored = [m for m in read_sms(local_stack.sms_store) if m["sid"] == message["sid"]]
    assert [m["body"] for m in stored] == [body]

    listing = (await twilio.get("/Messages.json", params={"To": GUARDIAN_PHONE})).json()
    assert listing["messages"][0]["sid"] == message["sid"]  # newest first
    fetched = await twilio.get(f"/Messages/{message['sid']}.json")
    assert fetched.json()["body"] == body


async def test_sms_through_a_messaging_service(twilio: httpx.AsyncClient) -> None:
    service = "MG" + "1" * 32
    answer = await twilio.post(
        "/Messages.json", data={"To": GUARDIAN_PHONE, "MessagingServiceSid": service, "Body": "hi"}
    )
    assert answer.status_code == 201, answer.text
    message = answer.json()
    assert (message["status"], message["from"]) == ("accepted", None)
    assert message["messaging_service_sid"] == service

    no_sender = await twilio.post("/Messages.json", data={"To": GUARDIAN_PHONE, "Body": "hi"})
    assert (no_sender.status_code, no_sender.json()["code"]) == (400, 21603)


async def test_sms_errors_have_twilios_shape(
    local_stack: LocalStack, twilio: httpx.AsyncClient
) -> None:
    bad_to = await twilio.post(
        "/Messages.json", data={"To": "+1234", "From": SCHOOL_PHONE, "Body": "hi"}
    )
    assert bad_to.status_code == 400
    assert bad_to.json() == {
        "code": 21211,
        "message": "The 'To' number +1234 is not a valid phone number.",
        "more_info": "https://www.twilio.com/docs/errors/21211",
        "status": 400,
    }

    unsubscribed = await twilio.post(
        "/Messages.json", data={"To": "+15005550004", "From": SCHOOL_PHONE, "Body": "hi"}
    )
    assert unsubscribed.json()["code"] == 21610

    wrong_token = await twilio.post(
        "/Messages.json",
        data={"To": GUARDIAN_PHONE, "From": SCHOOL_PHONE, "Body": "hi"},
        auth=(local_stack.sms_account_sid, "not-the-token"),
    )
    assert wrong_token.status_code == 401
    assert wrong_token.json()["code"] == 20003


@pytest.mark.parametrize(
    ("body", "encoding", "segments"),
    [
        ("a" * 160, "GSM-7", 1),
        ("a" * 161, "GSM-7", 2),
        ("a" * 306, "GSM-7", 2),
        ("a" * 307, "GSM-7", 3),
        ("€" * 80, "GSM-7", 1),  # extension characters take two septets
        ("a" * 152 + "€", "GSM-7", 1),  # 154 septets fit one segment...
        ("a" * 161 + "€", "GSM-7", 2),
        ("a" * 152 + "€" + "a" * 152, "GSM-7", 3),  # ...but an escape pair is never split
        ("я" * 70, "UCS-2", 1),
        ("я" * 71, "UCS-2", 2),
        ("😀" * 35, "UCS-2", 1),  # 70 UTF-16 units
        ("a" * 66 + "😀" + "a" * 66, "UCS-2", 3),  # a surrogate pair is never split
    ],
)
def test_segment_counting(body: str, encoding: str, segments: int) -> None:
    assert (count_segments(body).encoding, count_segments(body).count) == (encoding, segments)


async def test_sms_segments_reported_like_twilio(twilio: httpx.AsyncClient) -> None:
    for body, expected in [("Hi " * 60, "2"), ("Привет! " * 9, "2"), ("Bonjour à tous", "1")]:
        answer = await twilio.post(
            "/Messages.json", data={"To": GUARDIAN_PHONE, "From": SCHOOL_PHONE, "Body": body}
        )
        assert answer.json()["num_segments"] == expected, body


def test_twilio_signature_matches_twilios_published_example() -> None:
    params = {
        "CallSid": "CA1234567890ABCDE",
        "Caller": "+14158675309",
        "Digits": "1234",
        "From": "+14158675309",
        "To": "+18005551212",
    }
    url = "https://mycompany.com/myapp.php?foo=1&bar=2"
    assert twilio_signature(url, params, "12345") == "RSOYDt4T1cUTdK1PDd93/VVr8B8="
    assert twilio_signature(url, reversed(list(params.items())), "12345") == (
        "RSOYDt4T1cUTdK1PDd93/VVr8B8="
    )


class _Webhook:
    """A tiny HTTP server standing in for the notify service's Twilio webhook."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, str], str]] = []
        self.received = threading.Event()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length).decode("utf-8")
                outer.requests.append((self.path, dict(self.headers.items()), body))
                outer.received.set()
                reply = b"<Response><Message>You are unsubscribed.</Message></Response>"
                self.send_response(200)
                self.send_header("Content-Type", "text/xml")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"


@pytest.fixture
def webhook() -> Iterator[_Webhook]:
    hook = _Webhook()
    thread = threading.Thread(target=hook.server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield hook
    finally:
        hook.server.shutdown()
        hook.server.server_close()
        thread.join()


async def test_inbound_sms_reaches_the_webhook_signed_like_twilio(
    local_stack: LocalStack, webhook: _Webhook
) -> None:
    url = f"{webhook.url}/sms/inbound?district=d1"
    async with httpx.AsyncClient(base_url=local_stack.sms_url) as client:
        answer = await client.post(
            "/_standin/inbound",
            json={"from": GUARDIAN_PHONE, "to": SCHOOL_PHONE, "body": "STOP", "webhook_url": url},
        )
    assert answer.status_code == 200, answer.text
    delivery = answer.json()
    assert delivery["status_code"] == 200
    assert "You are unsubscribed." in delivery["body"]

    [(path, headers, body)] = webhook.requests
    assert path == "/sms/inbound?district=d1"
    assert headers["Content-Type"] == "application/x-www-form-urlencoded"
    params = parse_qsl(body, keep_blank_values=True)
    fields = dict(params)
    assert fields["From"] == GUARDIAN_PHONE
    assert fields["To"] == SCHOOL_PHONE
    assert fields["Body"] == "STOP"
    assert fields["MessageSid"] == delivery["message_sid"]
    assert fields["AccountSid"] == local_stack.sms_account_sid
    signature = headers["X-Twilio-Signature"]
    assert signature == twilio_signature(url, params, local_stack.sms_auth_token)
    assert signature != twilio_signature(url, params, "another-token")


async def test_status_callbacks_are_signed_and_report_delivery(
    local_stack: LocalStack, twilio: httpx.AsyncClient, webhook: _Webhook
) -> None:
    callback = f"{webhook.url}/sms/status"
    answer = await twilio.post(
        "/Messages.json",
        data={"To": GUARDIAN_PHONE, "From": SCHOOL_PHONE, "Body": "hi", "StatusCallback": callback},
    )
    sid = answer.json()["sid"]
    for _ in range(100):
        if len(webhook.requests) >= 2:
            break
        await asyncio.sleep(0.05)
    statuses = []
    for _path, headers, body in webhook.requests:
        params = parse_qsl(body)
        assert headers["X-Twilio-Signature"] == twilio_signature(
            callback, params, local_stack.sms_auth_token
        )
        assert dict(params)["MessageSid"] == sid
        statuses.append(dict(params)["MessageStatus"])
    assert statuses == ["sent", "delivered"]
    assert (await twilio.get(f"/Messages/{sid}.json")).json()["status"] == "delivered"


# The stack as a whole


def test_stack_stop_leaves_no_process_behind(tmp_path: Path) -> None:
    with LocalStack(tmp_path) as stack:
        pids = stack.pids()
        assert len(pids) == 5  # the broker's S3 server too
        assert all(_pid_alive(pid) for pid in pids)
        env = stack.env()
        assert env["APTT_KAFKA_BOOTSTRAP_SERVERS"] == stack.kafka_bootstrap
        assert env["APTT_MONGO_URL"].startswith("mongodb://127.0.0.1:")
        assert env["APTT_SMTP_PORT"] == str(stack.smtp_port)
        assert env["APTT_SMS_API_URL"] == stack.sms_url
        assert (tmp_path / "stack.json").exists()
    assert not any(_pid_alive(pid) for pid in pids)
    assert stack.pids() == []
    assert not (tmp_path / "stack.json").exists()
    for name in ("s3", "tansu", "secantus", "smtp", "sms"):
        assert (tmp_path / "logs" / f"{name}.log").stat().st_size > 0


_ORPHANED_LAUNCHER = """
import os, sys
from aptt_local.servers import LocalStack
stack = LocalStack(sys.argv[1], mongo=False)
stack.start()
print(*stack.pids(), flush=True)
sys.stdin.read()  # until the test kills us
"""


def _gone(pid: int) -> bool:
    """Exited, or a zombie nobody reaped yet (PID 1 in a container may be lazy)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] == "Z"


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
def test_a_killed_launcher_leaves_no_server_behind(tmp_path: Path) -> None:
    launcher = subprocess.Popen(
        [sys.executable, "-c", _ORPHANED_LAUNCHER, str(tmp_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert launcher.stdout is not None
    pids = [int(pid) for pid in launcher.stdout.readline().split()]
    assert len(pids) == 4  # S3 server, broker, SMTP sink, SMS stand-in
    assert not any(_gone(pid) for pid in pids)

    launcher.kill()  # SIGKILL: no atexit hook, no finally block runs
    launcher.wait()

    deadline = time.monotonic() + 20
    while not all(_gone(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert [pid for pid in pids if not _gone(pid)] == []
