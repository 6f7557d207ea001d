"""Typed settings read from the environment (`APTT_` prefix); they fail fast on bad values."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

Environment = Literal["local", "test", "staging", "production"]

# Values that are fine on a laptop and never in a cluster.
_PLACEHOLDERS = {"", "changeme", "change-me", "dev", "secret", "password", "local"}


def _is_placeholder(secret: str) -> bool:
    lowered = secret.lower()
    return lowered in _PLACEHOLDERS or "local" in lowered or "changeme" in lowered


class ServiceSettings(BaseSettings):
    """Settings every service shares; a service subclasses it to add its own."""

    model_config = SettingsConfigDict(env_prefix="APTT_", extra="ignore", frozen=True)

    service_name: str = "aptt"
    environment: Environment = "local"
    version: str = "0.1.0"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    http_host: str = "127.0.0.1"
    http_port: int = Field(default=8000, ge=0, le=65535)
    # Time allowed to finish requests and the batch in hand after SIGTERM.
    shutdown_grace_seconds: float = Field(default=20.0, gt=0)

    mongo_url: SecretStr = SecretStr("mongodb://127.0.0.1:27017/?directConnection=true")
    mongo_database: str = ""  # default: aptt_<service_name>

    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    # CA bundle that signed the brokers' certificates (Strimzi's cluster CA); system CAs if unset.
    kafka_ssl_cafile: str | None = None
    kafka_sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] | None = None
    kafka_sasl_username: str | None = None
    kafka_sasl_password: SecretStr | None = None
    # Locally the service creates its topics; in a cluster Strimzi owns them.
    kafka_create_topics: bool = True
    # Off by default: the local broker supports neither; correctness never depends on it.
    kafka_idempotent_producer: bool = False

    consumer_enabled: bool = True
    consumer_session_timeout_ms: int = Field(default=10_000, ge=1_000)
    consumer_heartbeat_interval_ms: int = Field(default=1_000, ge=100)
    # Records of one poll; a partition's share of them is one transaction.
    consumer_batch_size: int = Field(default=500, ge=1, le=10_000)
    consumer_max_retries: int = Field(default=3, ge=0, le=20)
    consumer_retry_backoff_seconds: float = Field(default=2.0, ge=0)
    consumer_retry_backoff_max_seconds: float = Field(default=300.0, ge=0)
    # A commit, a broker check or leaving the group waits at most this long: a broker that
    # lost the group or the topics otherwise keeps a commit retrying for ever.
    kafka_request_timeout_seconds: float = Field(default=5.0, gt=0, le=120)
    # /readyz reports the consumers not ready once they have failed to fetch or commit for
    # this long.
    consumer_stalled_after_seconds: float = Field(default=10.0, gt=0, le=600)

    relay_enabled: bool = True
    # The service's own loops (senders, schedulers): off in API-only pods, so they run in
    # the worker pods alone.
    background_enabled: bool = True
    # How long one read of the outbox's change stream waits for new records.
    relay_poll_interval_seconds: float = Field(default=0.2, gt=0)
    relay_batch_size: int = Field(default=1000, ge=1, le=10_000)
    # Records read but not yet published, at most (a broker outage stops reading there).
    relay_max_in_flight: int = Field(default=20_000, ge=1)
    # A record failing this often while the broker takes others is parked, not retried.
    relay_park_after_attempts: int = Field(default=12, ge=1, le=1000)
    relay_backoff_max_seconds: float = Field(default=60.0, gt=0)
    relay_lease_seconds: float = Field(default=15.0, gt=0)

    oidc_issuer: str = "http://127.0.0.1:8900"
    oidc_audience: str = "aptt"
    oidc_jwks_url: str = ""  # default: <issuer>/.well-known/jwks.json
    oidc_algorithms: tuple[str, ...] = ("RS256",)
    oidc_leeway_seconds: int = Field(default=30, ge=0, le=300)

    max_page_size: int = Field(default=200, ge=1, le=1000)
    # Every request body but an upload's (those have their own limit): the largest JSON
    # body of any route, a meeting's attendance of a few hundred students, is far below it.
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)

    # Limits on write requests (POST, PUT, PATCH, DELETE) per caller and per district, in
    # fixed windows counted in the service's database, so every replica sees one count
    # (aptt_platform.ratelimit, docs/decisions/0013). Routes that make messages go out to
    # families (a service's `message_routes`) have their own, tighter budget.
    request_limits_enabled: bool = True
    request_limit_window_seconds: int = Field(default=60, ge=1, le=86_400)
    request_limit_writes_per_principal: int = Field(default=120, ge=1)
    request_limit_writes_per_district: int = Field(default=6000, ge=1)
    request_limit_message_window_seconds: int = Field(default=600, ge=1, le=86_400)
    request_limit_messages_per_principal: int = Field(default=30, ge=1)
    request_limit_messages_per_district: int = Field(default=1000, ge=1)

    @property
    def database_name(self) -> str:
        return self.mongo_database or f"aptt_{self.service_name}"

    @property
    def jwks_url(self) -> str:
        return self.oidc_jwks_url or f"{self.oidc_issuer.rstrip('/')}/.well-known/jwks.json"

    @property
    def is_cluster(self) -> bool:
        return self.environment in ("staging", "production")

    @model_validator(mode="after")
    def _refuse_local_values_in_a_cluster(self) -> ServiceSettings:
        if not self.is_cluster:
            return self
        problems = []
        if "127.0.0.1" in self.mongo_url.get_secret_value() or "localhost" in (
            self.mongo_url.get_secret_value()
        ):
            problems.append("APTT_MONGO_URL points at this machine")
        if self.oidc_issuer.startswith("http://"):
            problems.append("APTT_OIDC_ISSUER must be https")
        for name in self._secret_names():
            value = getattr(self, name)
            if isinstance(value, SecretStr) and _is_placeholder(value.get_secret_value()):
                problems.append(f"APTT_{name.upper()} is a placeholder")
        if problems:
            raise ValueError(f"unsafe settings for {self.environment}: " + "; ".join(problems))
        return self

    def _secret_names(self) -> list[str]:
        return [
            name
            for name, info in type(self).model_fields.items()
            if info.annotation in (SecretStr, SecretStr | None)
        ]
