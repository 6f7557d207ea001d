"""Settings fail fast, and refuse laptop values in a cluster."""

from __future__ import annotations

import pytest
from aptt_platform.settings import ServiceSettings
from pydantic import ValidationError

PRODUCTION_OK = {
    "environment": "production",
    "mongo_url": "mongodb://svc:longrandompassword@mongo-0.mongo:27017/?replicaSet=rs0",
    "oidc_issuer": "https://login.district.example",
    "kafka_sasl_password": "a-real-generated-password",
}


def test_environment_variables_are_read_with_the_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APTT_HTTP_PORT", "9123")
    monkeypatch.setenv("APTT_SERVICE_NAME", "goals")
    settings = ServiceSettings()
    assert settings.http_port == 9123
    assert settings.database_name == "aptt_goals"


def test_a_bad_value_fails_at_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APTT_HTTP_PORT", "not-a-port")
    with pytest.raises(ValidationError, match="http_port"):
        ServiceSettings()


def test_secrets_do_not_show_in_repr() -> None:
    settings = ServiceSettings(**PRODUCTION_OK)
    assert "longrandompassword" not in repr(settings)
    assert "a-real-generated-password" not in str(settings.model_dump())


def test_production_accepts_real_values() -> None:
    assert ServiceSettings(**PRODUCTION_OK).is_cluster


@pytest.mark.parametrize(
    ("override", "complaint"),
    [
        ({"mongo_url": "mongodb://127.0.0.1:27017"}, "APTT_MONGO_URL"),
        ({"oidc_issuer": "http://login.district.example"}, "https"),
        ({"kafka_sasl_password": "changeme"}, "APTT_KAFKA_SASL_PASSWORD"),
    ],
)
def test_production_refuses_local_and_placeholder_values(
    override: dict[str, str], complaint: str
) -> None:
    with pytest.raises(ValidationError, match=complaint):
        ServiceSettings(**{**PRODUCTION_OK, **override})
