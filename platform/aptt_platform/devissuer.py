"""A development OIDC issuer: serves a JWKS and mints tokens. Never used in a cluster.

python -m aptt_platform.devissuer --port 8900 --key-file .aptt/dev-issuer.pem \
    [--users-file .aptt/dev-users.json]

It also signs people in to the web pages as an OIDC provider would: the authorization code
flow with PKCE (S256 only), where the sign-in page lists the demo users to pick from (the
users file, re-read on each visit, so `aptt up` can write it after the demo is loaded).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import html
import json
import secrets
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse

from aptt_platform.auth import CLAIM_DISTRICT, CLAIM_ROLES, CLAIM_SCHOOLS, CLAIM_STUDENTS

CODE_SECONDS = 120


@dataclass(frozen=True)
class DevUser:
    """Someone the sign-in page offers: the claims their tokens carry."""

    subject: str
    name: str
    district_id: str
    roles: list[str]
    school_ids: list[str]
    language: str = "en"

    @classmethod
    def parse(cls, raw: dict[str, Any]) -> DevUser:
        return cls(
            subject=str(raw["subject"]),
            name=str(raw.get("name") or raw["subject"]),
            district_id=str(raw["district_id"]),
            roles=[str(r) for r in raw.get("roles", [])],
            school_ids=[str(s) for s in raw.get("school_ids", [])],
            language=str(raw.get("language") or "en"),
        )


@dataclass(frozen=True)
class _Grant:
    user: DevUser
    client_id: str
    redirect_uri: str
    challenge: str
    nonce: str | None
    expires: float


def write_users(path: Path, users: list[DevUser]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps([u.__dict__ for u in users], indent=1))


class DevIssuer:
    def __init__(
        self,
        issuer: str,
        key_file: Path | None = None,
        audience: str = "aptt",
        users_file: Path | None = None,
    ) -> None:
        self.issuer = issuer.rstrip("/")
        self.audience = audience
        self.private_key = _load_or_create_key(key_file)
        self.kid = "dev-" + uuid.uuid5(uuid.NAMESPACE_URL, self._public_pem()).hex[:12]
        self.users_file = users_file
        self._grants: dict[str, _Grant] = {}

    def users(self) -> list[DevUser]:
        if self.users_file is None or not self.users_file.exists():
            return []
        return [DevUser.parse(raw) for raw in json.loads(self.users_file.read_text())]

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

    def mint_for(self, user: DevUser, **kwargs: Any) -> str:
        return self.mint(
            subject=user.subject,
            district_id=user.district_id,
            roles=user.roles,
            school_ids=user.school_ids,
            **kwargs,
        )

    def app(self) -> FastAPI:
        app = FastAPI(title="APTT dev issuer", docs_url=None, redoc_url=None)

        @app.get("/.well-known/openid-configuration")
        async def configuration() -> dict[str, Any]:
            return {
                "issuer": self.issuer,
                "jwks_uri": f"{self.issuer}/.well-known/jwks.json",
                "authorization_endpoint": f"{self.issuer}/authorize",
                "token_endpoint": f"{self.issuer}/token",
                "response_types_supported": ["code"],
                "grant_types_supported": ["authorization_code"],
                "code_challenge_methods_supported": ["S256"],
                "subject_types_supported": ["public"],
                "scopes_supported": ["openid", "profile"],
                "token_endpoint_auth_methods_supported": ["none"],
                "id_token_signing_alg_values_supported": ["RS256"],
            }

        @app.get("/.well-known/jwks.json")
        async def keys() -> dict[str, Any]:
            return self.jwks()

        @app.get("/authorize", response_class=HTMLResponse)
        async def authorize(request: Request) -> HTMLResponse:
            query = request.query_params
            if query.get("response_type") != "code" or query.get("code_challenge_method") != (
                "S256"
            ):
                raise HTTPException(400, "only the code flow with PKCE S256")
            for name in ("client_id", "redirect_uri", "code_challenge", "state"):
                if not query.get(name):
                    raise HTTPException(400, f"{name} is required")
            return HTMLResponse(self._sign_in_page(dict(query)))

        @app.post("/authorize")
        async def pick(
            subject: str = Form(max_length=255),
            client_id: str = Form(max_length=255),
            redirect_uri: str = Form(max_length=2000),
            code_challenge: str = Form(max_length=128),
            state: str = Form(max_length=512),
            nonce: str | None = Form(default=None, max_length=512),
        ) -> RedirectResponse:
            user = next((u for u in self.users() if u.subject == subject), None)
            if user is None:
                raise HTTPException(400, "no such demo user")
            code = secrets.token_urlsafe(24)
            self._grants[code] = _Grant(
                user, client_id, redirect_uri, code_challenge, nonce, time.time() + CODE_SECONDS
            )
            joiner = "&" if "?" in redirect_uri else "?"
            return RedirectResponse(
                f"{redirect_uri}{joiner}code={code}&state={state}", status_code=303
            )

        @app.post("/token")
        async def token(
            grant_type: str = Form(max_length=64),
            code: str = Form(max_length=255),
            redirect_uri: str = Form(max_length=2000),
            client_id: str = Form(max_length=255),
            code_verifier: str = Form(min_length=43, max_length=128),
        ) -> JSONResponse:
            grant = self._grants.pop(code, None)
            if (
                grant_type != "authorization_code"
                or grant is None
                or grant.expires < time.time()
                or grant.client_id != client_id
                or grant.redirect_uri != redirect_uri
                or _s256(code_verifier) != grant.challenge
            ):
                return JSONResponse({"error": "invalid_grant"}, status_code=400)
            ttl = 3600
            extra: dict[str, Any] = {"name": grant.user.name, "locale": grant.user.language}
            if grant.nonce:
                extra["nonce"] = grant.nonce
            return JSONResponse(
                {
                    "access_token": self.mint_for(grant.user, ttl_seconds=ttl),
                    "id_token": self.mint_for(
                        grant.user, ttl_seconds=ttl, audience=client_id, extra=extra
                    ),
                    "token_type": "Bearer",
                    "expires_in": ttl,
                },
                headers={"Cache-Control": "no-store"},
            )

        return app

    def _sign_in_page(self, query: dict[str, str]) -> str:
        hidden = "".join(
            f'<input type="hidden" name="{name}" value="{html.escape(query.get(name, ""))}">'
            for name in ("client_id", "redirect_uri", "code_challenge", "state", "nonce")
        )
        buttons = (
            "".join(
                f'<li><button name="subject" value="{html.escape(u.subject)}">'
                f"{html.escape(u.name)}</button> <small>{html.escape(', '.join(u.roles))}"
                f"</small></li>"
                for u in self.users()
            )
            or "<li>No demo users yet: the demo data is still loading.</li>"
        )
        return (
            '<!doctype html><html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            "<title>Sign in (development)</title></head><body><main>"
            "<h1>Sign in as a demo user</h1><p>This is the development sign-in: pick who "
            f'you are.</p><form method="post" action="/authorize">{hidden}<ul>{buttons}</ul>'
            "</form></main></body></html>"
        )


def _s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


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
    parser.add_argument("--users-file", type=Path, help="demo users the sign-in page offers")
    args = parser.parse_args()
    issuer = DevIssuer(f"http://{args.host}:{args.port}", args.key_file, users_file=args.users_file)
    uvicorn.run(issuer.app(), host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
