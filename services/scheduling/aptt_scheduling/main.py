"""Wiring of the scheduling service: settings, app, consumers, relay."""

from __future__ import annotations

from aptt_platform.runtime import ServiceDefinition, create_app, serve
from fastapi import FastAPI

from aptt_scheduling import api, consumers, store
from aptt_scheduling.i18n import CATALOGUES
from aptt_scheduling.settings import Settings


def build_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    # A broken catalogue stops the start, not a family's calendar download.
    CATALOGUES.load()
    return create_app(
        ServiceDefinition(
            settings=settings,
            title="APTT scheduling service",
            description=(api.__doc__ or "").strip(),
            routers=[api.router],
            message_routes=api.MESSAGE_ROUTES,
            handlers=consumers.HANDLERS,
            indexes=store.INDEXES,
            config=settings.config(),
        )
    )


def main() -> None:
    settings = Settings()
    serve(build_app(settings), settings)
