"""Kafka clients built from settings, and topic creation for local runs."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import time
from collections.abc import Iterable, Sequence
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError
from aptt_contracts.catalogue import Topic

from aptt_platform.logging import get_logger
from aptt_platform.settings import ServiceSettings

log = get_logger(__name__)


def client_options(settings: ServiceSettings) -> dict[str, Any]:
    options: dict[str, Any] = {
        "bootstrap_servers": settings.kafka_bootstrap_servers,
        "security_protocol": settings.kafka_security_protocol,
        "client_id": f"aptt-{settings.service_name}",
    }
    if settings.kafka_security_protocol in ("SSL", "SASL_SSL"):
        options["ssl_context"] = ssl.create_default_context(cafile=settings.kafka_ssl_cafile)
    if settings.kafka_sasl_mechanism:
        options["sasl_mechanism"] = settings.kafka_sasl_mechanism
        options["sasl_plain_username"] = settings.kafka_sasl_username
        if settings.kafka_sasl_password is not None:
            options["sasl_plain_password"] = settings.kafka_sasl_password.get_secret_value()
    return options


def create_producer(settings: ServiceSettings) -> AIOKafkaProducer:
    return AIOKafkaProducer(
        **client_options(settings),
        acks="all",
        enable_idempotence=settings.kafka_idempotent_producer,
        linger_ms=5,
        request_timeout_ms=15_000,
    )


async def ensure_topics(settings: ServiceSettings, topics: Iterable[Topic]) -> list[str]:
    """Create missing topics (local runs and tests; in a cluster Strimzi owns topics).

    Returns the names of the topics it created.
    """
    admin = AIOKafkaAdminClient(**client_options(settings))
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [
            NewTopic(t.name, num_partitions=t.partitions, replication_factor=1)
            for t in topics
            if t.name not in existing
        ]
        if missing:
            # Another service may have created one of them first.
            with contextlib.suppress(TopicAlreadyExistsError):
                await admin.create_topics(missing)
        return [t.name for t in missing]
    finally:
        await admin.close()


class TopicKeeper:
    """Puts back a service's topics when the broker has lost them.

    A local broker on memory storage comes back from a restart with no topics; producers
    and consumers then fail on every request until someone creates them again. Where the
    service creates its topics (`kafka_create_topics`), the relay and the consumers call
    `heal()` when the broker refuses them, at most once per `interval` seconds.
    """

    def __init__(
        self, settings: ServiceSettings, topics: Sequence[Topic], *, interval: float = 2.0
    ) -> None:
        self.settings = settings
        self.topics = list(topics)
        self.interval = interval
        self.recreated = 0  # topics created by heal(), for tests and logs
        self._lock = asyncio.Lock()
        self._last = float("-inf")

    async def heal(self) -> list[str]:
        """Create whichever of the topics are missing; the names created."""
        if not self.settings.kafka_create_topics:
            return []
        async with self._lock:
            if time.monotonic() - self._last < self.interval:
                return []
            self._last = time.monotonic()
            created = await asyncio.wait_for(
                ensure_topics(self.settings, self.topics),
                timeout=self.settings.kafka_request_timeout_seconds,
            )
        if created:
            self.recreated += len(created)
            log.warning("recreated missing topics", topics=created)
        return created
