"""Wiring of the notify service: settings, app, consumers, relay and the sender loop."""

from __future__ import annotations

from aptt_platform import metrics
from aptt_platform.runtime import ServiceDefinition, create_app, serve
from fastapi import FastAPI

from aptt_notify import api, consumers, store, workers
from aptt_notify.i18n import CATALOGUES
from aptt_notify.settings import Settings

__all__ = ["Settings", "build_app", "main"]


def build_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    # A broken catalogue stops the start, not a family's message.
    CATALOGUES.load()
    # Zero-valued series from the start, so the messages dashboard and alert see them.
    for channel in workers.METRIC_CHANNELS:
        for outcome in workers.OUTCOMES:
            metrics.MESSAGES_SENT.labels(settings.service_name, channel, outcome)
    return create_app(
        ServiceDefinition(
            settings=settings,
            title="APTT notify service",
            description=(api.__doc__ or "").strip(),
            routers=[api.router],
            message_routes=api.MESSAGE_ROUTES,
            handlers=consumers.HANDLERS,
            indexes=store.INDEXES,
            on_connected=[workers.start_sender],
            background=[workers.run_sender],
            config=settings.config(),
        )
    )


def main() -> None:
    settings = Settings()
    serve(build_app(settings), settings)
