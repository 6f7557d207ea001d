"""Wiring of the notify service: settings, app, consumers, relay and the sender loop."""

from __future__ import annotations

from aptt_platform import metrics
from aptt_platform.runtime import Runtime, ServiceDefinition, create_app, serve
from fastapi import FastAPI

from aptt_notify import api, consumers, store
from aptt_notify.providers import MailConfig, MailProvider, SmsConfig, SmsProvider
from aptt_notify.sender import METRIC_CHANNELS, OUTCOMES, Sender, run_sender
from aptt_notify.settings import Settings

__all__ = ["Settings", "build_app", "main"]


def providers(settings: Settings) -> tuple[SmsProvider, MailProvider]:
    sms = SmsProvider(
        SmsConfig(
            api_url=settings.sms_api_url,
            account_sid=settings.sms_account_sid,
            auth_token=settings.sms_auth_token.get_secret_value(),
            sender=settings.sms_from,
            messaging_service_sid=settings.sms_messaging_service_sid,
            timeout_seconds=settings.sms_timeout_seconds,
        )
    )
    mail = MailProvider(
        MailConfig(
            host=settings.smtp_host,
            port=settings.smtp_port,
            username=settings.smtp_username,
            password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
            sender=settings.smtp_from,
            starttls=settings.smtp_starttls,
            tls=settings.smtp_tls,
            timeout_seconds=settings.smtp_timeout_seconds,
        )
    )
    return sms, mail


async def start_sender(runtime: Runtime) -> None:
    settings = runtime.settings
    assert isinstance(settings, Settings)
    if not settings.background_enabled:
        return  # an API pod: the worker pods send
    sms, mail = providers(settings)
    runtime.state["sender"] = Sender(
        mongo=runtime.mongo,
        settings=settings,
        policy=settings.policy(),
        sms=sms,
        mail=mail,
        wake_relay=runtime.wake_relay,
    )


def build_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    # Zero-valued series from the start, so the messages dashboard and alert see them.
    for channel in METRIC_CHANNELS:
        for outcome in OUTCOMES:
            metrics.MESSAGES_SENT.labels(settings.service_name, channel, outcome)
    return create_app(
        ServiceDefinition(
            settings=settings,
            title="APTT notify service",
            description=(api.__doc__ or "").strip(),
            routers=[api.router],
            handlers=consumers.build_handlers(settings.policy()),
            indexes=store.INDEXES,
            on_connected=[start_sender],
            background=[run_sender],
        )
    )


def main() -> None:
    settings = Settings()
    serve(build_app(settings), settings)
