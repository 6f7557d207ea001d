"""A development OIDC issuer: serves a JWKS and mints tokens. Never used in a cluster.

python -m aptt_platform.devissuer --port 8900 --key-file .aptt/dev-issuer.pem
"""

from __future__ import annotations

import argparse
import json
import time
import uuid
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI

from aptt_platform.auth import CLAIM_DISTRICT, CLAIM_ROLES, CLAIM_SCHOOLS, CLAIM_STUDENTS


class DevIssuer:
    def __init__(self, issuer: str, key_file: Path | None = None, audience: str = "aptt") -> None:
        self.issuer = issuer.rstrip("/")
        self.audience = audience
        self.private_key = _load_or_create_key(key_file)
        self.kid = "dev-" + uuid.uuid5(uuid.NAMESPACE_URL, self._public_pem()).hex[:12]

    def _public_pem(self) -> str:
        return (
            self.private_key.public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            .decode()
        )

    @property
    def public_pem(self) -> str:
        return self._public_pem()

    def jwks(self) -> dict[str, Any]:
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.private_key.public_key()))
        jwk.update({"kid": self.kid, "use": "sig", "alg": "RS256"})
        return {"keys": [jwk]}

    def mint(
        self,
        *,
        subject: str,
        district_id: str,
        roles: list[str],
        school_ids: list[str] | None = None,
        student_ids: list[str] | None = None,
        ttl_seconds: int = 3600,
        audience: str | None = None,
        issuer: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": issuer or self.issuer,
            "aud": audience or self.audience,
            "sub": subject,
            "iat": now,
            "nbf": now,
            "exp": now + ttl_seconds,
            CLAIM_DISTRICT: district_id,
            CLAIM_ROLES: roles,
            CLAIM_SCHOOLS: school_ids or [],
            CLAIM_STUDENTS: student_ids or [],
        }
        claims.update(extra or {})
        return jwt.encode(claims, self.private_key, algorithm="RS256", headers={"kid": self.kid})

    def app(self) -> FastAPI:
        app = FastAPI(title="APTT dev issuer", docs_url=None, redoc_url=None)

        @app.get("/.well-known/openid-configuration")
        async def configuration() -> dict[str, Any]:
            return {
                "issuer": self.issuer,
                "jwks_uri": f"{self.issuer}/.well-known/jwks.json",
                "id_token_signing_alg_values_supported": ["RS256"],
            }

        @app.get("/.well-known/jwks.json")
        async def keys() -> dict[str, Any]:
            return self.jwks()

        return app


def _load_or_create_key(key_file: Path | None) -> rsa.RSAPrivateKey:
    if key_file is not None and key_file.exists():
        key = serialization.load_pem_private_key(key_file.read_bytes(), password=None)
        if not isinstance(key, rsa.RSAPrivateKey):
            raise ValueError(f"{key_file} is not an RSA private key")
        return key
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if key_file is not None:
        key_file.parent.mkdir(parents=True, exist_ok=True)
        key_file.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        key_file.chmod(0o600)
    return key


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description="APTT development OIDC issuer")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8900)
    parser.add_argument("--key-file", type=Path, required=True)
    args = parser.parse_args()
    issuer = DevIssuer(f"http://{args.host}:{args.port}", args.key_file)
    uvicorn.run(issuer.app(), host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
