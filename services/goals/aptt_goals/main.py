"""Wiring of the goals service: settings, app, consumers, relay, the goal-closing loop."""

from __future__ import annotations

from aptt_platform.runtime import ServiceDefinition, create_app, serve
from fastapi import FastAPI

from aptt_goals import api, consumers, store, workers
from aptt_goals.i18n import CATALOGUES
from aptt_goals.settings import Clock, Settings, system_clock


def build_app(settings: Settings | None = None, *, clock: Clock = system_clock) -> FastAPI:
    settings = settings or Settings()
    CATALOGUES.load()  # a broken catalogue stops the start, not a guardian's request
    return create_app(
        ServiceDefinition(
            settings=settings,
            title="APTT goals service",
            description=(api.__doc__ or "").strip(),
            routers=[api.router],
            message_routes=api.MESSAGE_ROUTES,
            handlers=consumers.HANDLERS,
            indexes=store.INDEXES,
            background=[workers.close_due_goals_forever],
            config=settings.config(clock),
        )
    )


def main() -> None:
    settings = Settings()
    serve(build_app(settings), settings)
