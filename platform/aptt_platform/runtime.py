"""A service's runtime: what its process holds open, started and stopped in the lifespan.

Nothing connects at import time. On start the runtime keeps trying to reach the database
and the broker (a pod may start before them) and reports not-ready until it has.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import (
    AsyncIterator,
    Awaitable,
    Callable,
    Collection,
    Coroutine,
    Mapping,
    Sequence,
)
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaProducer
from aptt_contracts.catalogue import topics_consumed_by, topics_of
from aptt_contracts.envelope import EventModel
from aptt_contracts.registry import EVENT_MODELS
from fastapi import APIRouter, Depends, FastAPI
from pymongo import IndexModel

from aptt_platform import metrics
from aptt_platform.auth import TokenVerifier
from aptt_platform.bodylimit import BodyLimit
from aptt_platform.consumer import ConsumerConfig, EventConsumer, HandlerTable, adapt
from aptt_platform.kafka import TopicKeeper, create_producer, ensure_topics
from aptt_platform.logging import configure_logging, get_logger
from aptt_platform.mongo import Mongo
from aptt_platform.ratelimit import INDEXES as REQUEST_LIMIT_INDEXES
from aptt_platform.ratelimit import Endpoint, RequestLimiter, enforce_request_limits
from aptt_platform.relay import OutboxRelay
from aptt_platform.settings import ServiceSettings
from aptt_platform.web import (
    COMMON_PROBLEMS,
    document_problems,
    install_health,
    install_problem_details,
    install_request_middleware,
)

log = get_logger(__name__)
Hook = Callable[["Runtime"], Awaitable[None]]


@dataclass
class ServiceDefinition:
    """All a service tells the platform about itself; its main.py builds one."""

    settings: ServiceSettings
    title: str
    description: str
    routers: Sequence[APIRouter] = ()
    handlers: HandlerTable = field(default_factory=dict)
    indexes: Mapping[str, Sequence[IndexModel]] = field(default_factory=dict)
    models: Mapping[str, type[EventModel]] = field(default_factory=lambda: EVENT_MODELS)
    # Long-running work of the service's own (schedulers), started once connected.
    background: Sequence[Callable[[Runtime], Coroutine[Any, Any, None]]] = ()
    on_connected: Sequence[Hook] = ()
    # The service's own configuration: handlers read it as `uow.config_as(Config)`, routes
    # through their service's `ConfigDep`.
    config: object = None
    # Endpoints of the routes that make messages go out to families, held to the tighter
    # messages budget of the request limits (aptt_platform.ratelimit).
    message_routes: Collection[Endpoint] = ()
    # Paths of upload routes and their own body limits, larger than APTT_MAX_BODY_BYTES.
    upload_limits: Mapping[str, int] = field(default_factory=dict)


class Runtime:
    def __init__(self, definition: ServiceDefinition) -> None:
        self.definition = definition
        self.settings = definition.settings
        self.config = definition.config
        self.handlers = adapt(definition.handlers)
        self.mongo = Mongo(
            self.settings.mongo_url.get_secret_value(),
            self.settings.database_name,
            config=definition.config,
        )
        self.mongo.on_events_committed = self.wake_relay
        self.producer: AIOKafkaProducer | None = None
        self.relay: OutboxRelay | None = None
        self.consumer: EventConsumer | None = None
        self.topics = TopicKeeper(self.settings, topics_of(self.settings.service_name))
        self.verifier = TokenVerifier(self.settings)
        self.request_limiter = RequestLimiter(
            self.mongo.db, self.settings, definition.message_routes
        )
        self.state: dict[str, Any] = {}  # what a service keeps for its own routes
        self.connected = asyncio.Event()
        self._connect_task: asyncio.Task[None] | None = None
        self._background: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        self._connect_task = asyncio.create_task(self._connect(), name="connect")

    async def _connect(self) -> None:
        delay = 0.5
        while True:
            try:
                await self._connect_once()
                break
            except Exception as exc:
                log.warning("waiting for the database and broker", error=str(exc)[:300])
                await self._close_kafka()
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)
        self.connected.set()
        for hook in self.definition.on_connected:
            await hook(self)
        if self.settings.background_enabled:
            for work in self.definition.background:
                self._background.append(asyncio.create_task(work(self)))
        log.info("service connected")

    async def _connect_once(self) -> None:
        settings = self.settings
        await self.mongo.ping()
        await self.mongo.ensure_indexes({**REQUEST_LIMIT_INDEXES, **self.definition.indexes})
        if settings.kafka_create_topics:
            await ensure_topics(settings, topics_of(settings.service_name))
        self.producer = create_producer(settings)
        await self.producer.start()
        if settings.relay_enabled:
            self.relay = OutboxRelay(
                mongo=self.mongo, producer=self.producer, settings=settings, topics=self.topics
            )
            self.relay.start()
        topics = topics_consumed_by(settings.service_name)
        if settings.consumer_enabled and self.handlers and topics:
            self.consumer = EventConsumer(
                config=ConsumerConfig(
                    name=settings.service_name,
                    topics=topics,
                    handlers=self.handlers,
                    models=self.definition.models,
                ),
                mongo=self.mongo,
                producer=self.producer,
                settings=settings,
                topics=self.topics,
            )
            await self.consumer.start()
            self._init_consumer_series()

    def _init_consumer_series(self) -> None:
        # Zero-valued series from the start, so rates and alerts see them before any traffic.
        app = self.settings.service_name
        for event_type, model in self.definition.models.items():
            if event_type in self.handlers:
                for outcome in ("ok", "duplicate", "retried", "dead_lettered"):
                    metrics.EVENTS_CONSUMED.labels(app, app, model.topic, event_type, outcome)

    async def _close_kafka(self) -> None:
        # Each step is bounded, so shutdown ends within the grace period whatever the
        # broker does: half for the consumers' last batch, then the relay, then the producer.
        grace = self.settings.shutdown_grace_seconds
        if self.consumer is not None:
            with contextlib.suppress(Exception):
                await self.consumer.stop(grace / 2)
            self.consumer = None
        if self.relay is not None:
            await _bounded(self.relay.stop(), grace / 4, "outbox relay")
            self.relay = None
        if self.producer is not None:
            await _bounded(self.producer.stop(), grace / 8, "producer")
            self.producer = None

    async def stop(self) -> None:
        """Finish the batch in hand, flush the outbox, close connections."""
        if self._connect_task is not None and not self._connect_task.done():
            self._connect_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._connect_task
        for task in self._background:
            task.cancel()
        for task in self._background:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await self._close_kafka()
        await self.verifier.close()
        await self.mongo.close()

    def wake_relay(self) -> None:
        """Publish soon; the unit of work calls it after a commit that wrote events."""
        if self.relay is not None:
            self.relay.wake()

    async def readiness(self) -> dict[str, bool]:
        app = self.settings.service_name
        checks = {
            "mongodb": await _within(self.mongo.ping(), 2.0),
            "kafka": self.producer is not None
            and await _within(self.producer.client.fetch_all_metadata(), 2.0),
        }
        if self.settings.consumer_enabled and self.handlers:
            checks["consumers"] = self.consumer is not None and self.consumer.ready
        for dependency in ("mongodb", "kafka"):
            metrics.DEPENDENCY_UP.labels(app, dependency).set(1 if checks[dependency] else 0)
        return checks


async def _bounded(awaitable: Awaitable[Any], seconds: float, what: str) -> None:
    try:
        await asyncio.wait_for(awaitable, seconds)
    except TimeoutError:
        log.warning("did not stop in time", what=what, seconds=seconds)
    except Exception as exc:
        log.warning("failed to stop", what=what, error=type(exc).__name__)


async def _within(awaitable: Awaitable[Any], seconds: float) -> bool:
    try:
        await asyncio.wait_for(awaitable, seconds)
    except Exception:
        return False
    return True


def create_app(definition: ServiceDefinition) -> FastAPI:
    settings = definition.settings
    configure_logging(service=settings.service_name, level=settings.log_level)
    metrics.BUILD_INFO.labels(settings.service_name).info({"version": settings.version})

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = Runtime(definition)
        app.state.runtime = runtime
        app.state.token_verifier = runtime.verifier
        app.state.request_limiter = runtime.request_limiter
        await runtime.start()
        try:
            yield
        finally:
            await runtime.stop()

    app = FastAPI(
        title=definition.title,
        description=definition.description,
        version=settings.version,
        lifespan=lifespan,
    )
    install_problem_details(app)
    install_request_middleware(app, settings.service_name)
    app.add_middleware(
        BodyLimit, limit=settings.max_body_bytes, upload_limits=definition.upload_limits
    )

    async def readiness() -> dict[str, bool]:
        runtime: Runtime = app.state.runtime
        return await runtime.readiness()

    install_health(app, readiness)
    for router in definition.routers:
        app.include_router(
            router, responses=COMMON_PROBLEMS, dependencies=[Depends(enforce_request_limits)]
        )
    document_problems(app)
    return app


def serve(app: FastAPI, settings: ServiceSettings) -> None:
    """Run under uvicorn; SIGTERM stops intake, drains requests, then the lifespan closes."""
    import uvicorn

    uvicorn.run(
        app,
        host=settings.http_host,
        port=settings.http_port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=int(settings.shutdown_grace_seconds),
        proxy_headers=True,
    )
