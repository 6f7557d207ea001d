"""Settings of the notify service (`APTT_*` environment variables), beyond the shared ones."""

from __future__ import annotations

from datetime import timedelta

from aptt_platform.settings import ServiceSettings
from pydantic import Field, SecretStr

from aptt_notify.service.policy import Policy

# The local SMS stand-in's credentials, so `aptt up` works without configuration. In a
# cluster the auth token is a placeholder the platform refuses (see ServiceSettings).
LOCAL_SMS_ACCOUNT_SID = "AC" + "0" * 32
LOCAL_SMS_AUTH_TOKEN = "aptt-local-sms-auth-token"  # noqa: S105 - a local stand-in's default


class Settings(ServiceSettings):
    service_name: str = "notify"

    smtp_host: str = "127.0.0.1"
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_from: str = "School messages <no-reply@aptt.localhost>"
    smtp_starttls: bool = False
    smtp_tls: bool = False  # implicit TLS, usually port 465
    smtp_timeout_seconds: float = Field(default=30.0, gt=0)

    sms_api_url: str = "https://api.twilio.com"
    sms_account_sid: str = LOCAL_SMS_ACCOUNT_SID
    sms_auth_token: SecretStr = SecretStr(LOCAL_SMS_AUTH_TOKEN)
    sms_from: str = "+15005550006"
    sms_messaging_service_sid: str | None = None  # used instead of sms_from when set
    # The public URL the provider calls, as it signs it; default: the URL of the request.
    sms_webhook_url: str | None = None
    sms_timeout_seconds: float = Field(default=15.0, gt=0)

    default_timezone: str = "America/Los_Angeles"

    sender_poll_interval_seconds: float = Field(default=1.0, gt=0)
    sender_batch_size: int = Field(default=50, ge=1, le=1000)
    sender_concurrency: int = Field(default=8, ge=1, le=100)
    # Longer than the slowest provider call, or a slow send could be claimed twice.
    sender_lease_seconds: float = Field(default=120.0, gt=0)
    send_max_attempts: int = Field(default=8, ge=1, le=50)
    send_retry_base_seconds: float = Field(default=30.0, ge=0)
    send_retry_max_seconds: float = Field(default=3600.0, ge=0)

    rate_limit_recipient_per_hour: int = Field(default=20, ge=1)
    rate_limit_district_per_hour: int = Field(default=20_000, ge=1)
    recipient_wait_hours: float = Field(default=72.0, gt=0)
    message_max_wait_hours: float = Field(default=168.0, gt=0)
    recheck_minutes: float = Field(default=60.0, gt=0)

    def policy(self) -> Policy:
        return Policy(
            default_timezone=self.default_timezone,
            recipient_wait=timedelta(hours=self.recipient_wait_hours),
            message_max_wait=timedelta(hours=self.message_max_wait_hours),
            recheck_interval=timedelta(minutes=self.recheck_minutes),
            recipient_per_hour=self.rate_limit_recipient_per_hour,
            district_per_hour=self.rate_limit_district_per_hour,
        )
