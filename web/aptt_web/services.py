"""The four services, called with the signed-in person's token.

The services decide who may see what; the web only shows their answers. A refusal comes
back as the service's problem details (`ServiceProblem`), which the pages turn into plain
words: a 404 or 403 becomes this site's "not found" page, so a page refuses another
family's child exactly as the API does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import httpx

from aptt_web.settings import Settings

Service = Literal["data", "scheduling", "goals", "notify"]


@dataclass
class ServiceProblem(Exception):
    status: int
    problem: dict[str, Any] = field(default_factory=dict)

    @property
    def detail(self) -> str:
        return str(self.problem.get("detail") or self.problem.get("title") or self.status)

    @property
    def retry_after(self) -> int | None:
        value = self.problem.get("retry_after")
        return int(value) if isinstance(value, int | float | str) and str(value).isdigit() else None


class Services:
    """One pooled HTTP client; `call(service, token, method, path, ...)` per request."""

    def __init__(self, settings: Settings, http: httpx.AsyncClient | None = None) -> None:
        self.urls: dict[Service, str] = {
            "data": settings.data_url.rstrip("/"),
            "scheduling": settings.scheduling_url.rstrip("/"),
            "goals": settings.goals_url.rstrip("/"),
            "notify": settings.notify_url.rstrip("/"),
        }
        self.http = http or httpx.AsyncClient(
            timeout=settings.service_timeout_seconds, trust_env=False
        )

    async def close(self) -> None:
        await self.http.aclose()

    async def call(
        self,
        service: Service,
        token: str,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        files: dict[str, tuple[str, bytes, str]] | None = None,
        data: dict[str, str] | None = None,
        language: str | None = None,
    ) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"}
        if language:
            headers["Accept-Language"] = language
        answer = await self.http.request(
            method,
            self.urls[service] + path,
            headers=headers,
            json=json,
            params={k: v for k, v in (params or {}).items() if v is not None},
            files=files,
            data=data,
        )
        if answer.status_code >= 400:
            try:
                problem = answer.json()
            except ValueError:
                problem = {"title": answer.reason_phrase}
            if answer.headers.get("retry-after", "").isdigit():
                problem["retry_after"] = int(answer.headers["retry-after"])
            raise ServiceProblem(answer.status_code, problem if isinstance(problem, dict) else {})
        return answer

    async def get(self, service: Service, token: str, path: str, **params: Any) -> Any:
        return (await self.call(service, token, "GET", path, params=params)).json()
