"""Settings fail fast, and refuse laptop values in a cluster."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aptt_platform.settings import ServiceSettings
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pydantic import ValidationError


def _self_signed_ca() -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "aptt-test-ca")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM).decode()


CA_PEM = _self_signed_ca()

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
        ({"kafka_sasl_password": "aptt-local-password"}, "APTT_KAFKA_SASL_PASSWORD"),
    ],
)
def test_production_refuses_local_and_placeholder_values(
    override: dict[str, str], complaint: str
) -> None:
    with pytest.raises(ValidationError, match=complaint):
        ServiceSettings(**{**PRODUCTION_OK, **override})


def test_kafka_tls_trusts_the_configured_ca(tmp_path: Path) -> None:
    from aptt_platform.kafka import client_options

    ca = tmp_path / "ca.pem"
    ca.write_text(CA_PEM)
    tls = client_options(ServiceSettings(kafka_security_protocol="SSL", kafka_ssl_cafile=str(ca)))
    subjects = [dict(x[0] for x in cert["subject"]) for cert in tls["ssl_context"].get_ca_certs()]
    assert {"commonName": "aptt-test-ca"} in subjects
    with pytest.raises(FileNotFoundError):
        client_options(
            ServiceSettings(
                kafka_security_protocol="SSL", kafka_ssl_cafile=str(tmp_path / "missing.pem")
            )
        )
