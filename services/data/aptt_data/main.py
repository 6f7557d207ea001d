"""Wiring of the data service: settings, app, consumers, relay."""

from __future__ import annotations

from aptt_platform.runtime import ServiceDefinition, create_app, serve
from aptt_platform.settings import ServiceSettings
from fastapi import FastAPI

from aptt_data import api, consumers, store


class Settings(ServiceSettings):
    service_name: str = "data"


def build_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    return create_app(
        ServiceDefinition(
            settings=settings,
            title="APTT data service",
            description=(api.__doc__ or "").strip(),
            routers=[api.router],
            handlers=consumers.HANDLERS,
            indexes=store.INDEXES,
        )
    )


def main() -> None:
    settings = Settings()
    serve(build_app(settings), settings)
