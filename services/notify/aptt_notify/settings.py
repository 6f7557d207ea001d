"""Settings of the notify service (`APTT_*` environment variables), beyond the shared ones,
and the `Config` of its rules that handlers and use cases read as `uow.config_as(Config)`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from aptt_platform.settings import ServiceSettings
from pydantic import Field, SecretStr

# The local SMS stand-in's credentials, so `aptt up` works without configuration. In a
# cluster the auth token is a placeholder the platform refuses (see ServiceSettings).
LOCAL_SMS_ACCOUNT_SID = "AC" + "0" * 32
LOCAL_SMS_AUTH_TOKEN = "aptt-local-sms-auth-token"  # noqa: S105 - a local stand-in's default
LOCAL_EMAIL_INBOUND_SECRET = "aptt-local-email-inbound-secret"  # noqa: S105 - local default


@dataclass(frozen=True)
class Config:
    """The knobs of the notify rules, taken from settings once (ServiceDefinition.config)."""

    default_timezone: str = "UTC"
    # How long an event waits for recipients it cannot resolve yet (roster arriving late).
    recipient_wait: timedelta = timedelta(hours=72)
    # How long a message without a natural deadline waits for contacts or its school.
    message_max_wait: timedelta = timedelta(days=7)
    # A message waiting for contacts is woken by the contact event; this is the safety net.
    recheck_interval: timedelta = timedelta(hours=1)
    recipient_per_hour: int = 20
    district_per_hour: int = 360_000
    reply_expiry: timedelta = timedelta(hours=1)
    # Longer than any transaction: a notice opened by the sender is expanded again after it.
    settle_delay: timedelta = timedelta(seconds=10)
    # Changes to one meeting within this window reach each family as one notice with the
    # final state; a meeting about to begin is told by the lead before it (docs/decisions/0542).
    change_window: timedelta = timedelta(minutes=10)
    change_notice_lead: timedelta = timedelta(hours=1)
    # Personal notes, reach, replies and surveys (docs/decisions/0510-0514).
    notes_teacher_per_hour: int = 60
    notes_district_per_hour: int = 5000
    reach_days: int = 30
    reply_window: timedelta = timedelta(days=14)
    survey_min_answers: int = 5
    survey_window: timedelta = timedelta(days=7)
    # One-to-one conferences (docs/decisions/0530).
    conference_reminders: tuple[timedelta, timedelta] = (timedelta(days=1), timedelta(hours=2))
    conference_nudge_before_close: timedelta = timedelta(days=2)
    conference_signup_link: str = "https://aptt.localhost/conferences/{availability_id}"

    def zone(self, name: str | None) -> ZoneInfo:
        for candidate in (name, self.default_timezone, "UTC"):
            if candidate:
                try:
                    return ZoneInfo(candidate)
                except (ZoneInfoNotFoundError, ValueError):
                    continue
        return ZoneInfo("UTC")


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
    # A connection is reused for this many messages, then closed (servers limit a session).
    smtp_messages_per_connection: int = Field(default=100, ge=1, le=10_000)

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
    # Deliveries claimed in one bulk claim; the claim holds them for the lease.
    sender_batch_size: int = Field(default=500, ge=1, le=5000)
    # Longer than the slowest provider call plus the time a batch waits for its rate, or a
    # slow send could be claimed twice (docs/decisions/0505).
    sender_lease_seconds: float = Field(default=120.0, gt=0)
    # What the providers carry: a US short code takes 100 SMS/s, a 10DLC number far less;
    # a mail relay (SES, SendGrid) some hundreds a second per account.
    sms_rate_per_second: float = Field(default=100.0, gt=0)
    email_rate_per_second: float = Field(default=200.0, gt=0)
    sms_concurrency: int = Field(default=50, ge=1, le=1000)
    email_concurrency: int = Field(default=10, ge=1, le=200)
    # On shutdown, how long the sends in hand may take to finish and be recorded.
    sender_shutdown_grace_seconds: float = Field(default=10.0, ge=0)
    send_max_attempts: int = Field(default=8, ge=1, le=50)
    send_retry_base_seconds: float = Field(default=30.0, ge=0)
    send_retry_max_seconds: float = Field(default=3600.0, ge=0)

    rate_limit_recipient_per_hour: int = Field(default=20, ge=1)
    # Unset: one hour of what the SMS provider carries (sms_rate_per_second * 3600), so the
    # cap stops a runaway bug without slowing a real district-wide invitation.
    rate_limit_district_per_hour: int | None = Field(default=None, ge=1)
    recipient_wait_hours: float = Field(default=72.0, gt=0)
    message_max_wait_hours: float = Field(default=168.0, gt=0)
    recheck_minutes: float = Field(default=60.0, gt=0)
    # Changes to one meeting within this window reach each family as one notice
    # (docs/decisions/0542); 0 tells every change at once.
    meeting_change_window_seconds: float = Field(default=600.0, ge=0, le=3600)

    # Personal notes, reach, replies and surveys (docs/decisions/0510-0514).
    notes_per_teacher_per_hour: int = Field(default=60, ge=1)
    notes_per_district_per_hour: int = Field(default=5000, ge=1)
    reach_days: int = Field(default=30, ge=1, le=365)
    reply_window_days: float = Field(default=14.0, gt=0)
    # A district may raise it (PUT /v1/surveys/settings), never lower it below this.
    survey_min_answers: int = Field(default=5, ge=5)
    survey_window_days: float = Field(default=7.0, gt=0)
    # Shared with the mail provider's inbound parse webhook (docs/decisions/0513).
    email_inbound_secret: SecretStr = SecretStr(LOCAL_EMAIL_INBOUND_SECRET)

    # One-to-one conferences (docs/decisions/0530): reminder lead times, the nudge before
    # sign-up closes, and the families' app page for an availability.
    conference_reminder_day_minutes: float = Field(default=1440.0, gt=0)
    conference_reminder_soon_minutes: float = Field(default=120.0, gt=0)
    conference_nudge_hours: float = Field(default=48.0, gt=0)
    conference_signup_link: str = Field(
        default="https://aptt.localhost/conferences/{availability_id}", max_length=500
    )

    @property
    def district_per_hour(self) -> int:
        if self.rate_limit_district_per_hour is not None:
            return self.rate_limit_district_per_hour
        return int(self.sms_rate_per_second * 3600)

    def config(self) -> Config:
        return Config(
            default_timezone=self.default_timezone,
            recipient_wait=timedelta(hours=self.recipient_wait_hours),
            message_max_wait=timedelta(hours=self.message_max_wait_hours),
            recheck_interval=timedelta(minutes=self.recheck_minutes),
            change_window=timedelta(seconds=self.meeting_change_window_seconds),
            recipient_per_hour=self.rate_limit_recipient_per_hour,
            district_per_hour=self.district_per_hour,
            notes_teacher_per_hour=self.notes_per_teacher_per_hour,
            notes_district_per_hour=self.notes_per_district_per_hour,
            reach_days=self.reach_days,
            reply_window=timedelta(days=self.reply_window_days),
            survey_min_answers=self.survey_min_answers,
            survey_window=timedelta(days=self.survey_window_days),
            conference_reminders=(
                timedelta(minutes=self.conference_reminder_day_minutes),
                timedelta(minutes=self.conference_reminder_soon_minutes),
            ),
            conference_nudge_before_close=timedelta(hours=self.conference_nudge_hours),
            conference_signup_link=self.conference_signup_link,
        )
