"""Wiring of the data service: app, consumers, relay, upload limits."""

from __future__ import annotations

from aptt_platform.runtime import ServiceDefinition, create_app, serve
from fastapi import FastAPI

from aptt_data import api, consumers, i18n, store, workers
from aptt_data.settings import Settings
from aptt_data.store import kindergarten as kindergarten_store


def build_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    i18n.CATALOGUES.load()
    return create_app(
        ServiceDefinition(
            settings=settings,
            title="APTT data service",
            description=(api.__doc__ or "").strip(),
            routers=[api.router],
            message_routes=api.MESSAGE_ROUTES,
            handlers=consumers.HANDLERS,
            indexes={**store.INDEXES, **kindergarten_store.INDEXES},
            background=[workers.import_worker, workers.roster_sync_schedule],
            config=settings.config(),
            upload_limits=dict.fromkeys(api.UPLOAD_PATHS, settings.max_upload_bytes),
        )
    )


def main() -> None:
    settings = Settings()
    serve(build_app(settings), settings)
