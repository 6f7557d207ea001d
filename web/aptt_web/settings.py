"""The web edge's settings (`APTT_` environment variables, as every component's)."""

from __future__ import annotations

from aptt_platform.settings import ServiceSettings
from pydantic import Field, SecretStr, model_validator


class Settings(ServiceSettings):
    service_name: str = "web"
    # The address people type; the sign-in redirect comes back to it.
    web_public_url: str = "http://127.0.0.1:8000"
    data_url: str = "http://127.0.0.1:8001"
    scheduling_url: str = "http://127.0.0.1:8002"
    goals_url: str = "http://127.0.0.1:8003"
    notify_url: str = "http://127.0.0.1:8004"
    oidc_client_id: str = "aptt-web"
    # A public client (PKCE alone) when unset; a confidential one where the IdP wants it.
    oidc_client_secret: SecretStr | None = None
    oidc_scopes: str = "openid profile"
    # Session lifetime without activity; a school day, so a teacher signs in once.
    session_idle_minutes: int = Field(default=480, ge=5, le=7 * 24 * 60)
    # Off only on a laptop served over http://; a cluster refuses it off.
    cookie_secure: bool = True
    service_timeout_seconds: float = Field(default=15.0, gt=0, le=120)
    # Uploads the pages pass on to the data service (roster and results imports).
    max_upload_bytes: int = Field(default=64 * 1024 * 1024, ge=1024)

    @model_validator(mode="after")
    def _secure_cookies_in_a_cluster(self) -> Settings:
        if self.is_cluster and not self.cookie_secure:
            raise ValueError("APTT_COOKIE_SECURE must be true in a cluster")
        if self.is_cluster and not self.web_public_url.startswith("https://"):
            raise ValueError("APTT_WEB_PUBLIC_URL must be https in a cluster")
        return self

    @property
    def redirect_uri(self) -> str:
        return self.web_public_url.rstrip("/") + "/signin/callback"
