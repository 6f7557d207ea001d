"""Schemathesis over every operation of the four services, as a tester who does not know
the code would run it: generated valid and invalid requests, with a valid token from the
dev issuer; every answer's status must be one the operation documents, and its body must
match the documented schema, and nothing may be a server error. Bounded: a few examples per
operation and mode, derandomized so a run repeats the last one."""

from __future__ import annotations

import asyncio
import importlib
from typing import Any

import pytest
import schemathesis
from aptt_local.servers import LocalStack
from aptt_local.testing import random_id, running_app, service_settings
from aptt_platform.devissuer import DevIssuer
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

SERVICES = ("data", "scheduling", "goals", "notify")
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# About 3 min for the four services' ~200 operations on the 2-core machine (8 took nearly 5,
# and found no failure; 25 found nothing more than 8 when there were fewer operations).
EXAMPLES = 5
# Schemathesis' own strategies draw from `random`; Hypothesis warns about it.
pytestmark = pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisDeprecationWarning")


def conformance_failures(url: str, token: str) -> list[str]:
    """Run the checks over every operation; the first failure of each, described."""
    schema = schemathesis.openapi.from_url(f"{url}/openapi.json")
    headers = {"Authorization": f"Bearer {token}"}
    failures: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @settings(
                max_examples=EXAMPLES,
                deadline=None,
                database=None,
                derandomize=True,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            @given(case=operation.as_strategy(generation_mode=mode))
            def check(case: Any) -> None:
                case.call_and_validate(base_url=url, headers=headers, checks=CHECKS, timeout=30)

            try:
                check()
            except Unsatisfiable:
                if mode is GenerationMode.POSITIVE:
                    raise
                # No parameters or body to make invalid (/healthz).
            # One per operation and mode, described as a tester reads it.
            except (Exception, BaseExceptionGroup) as exc:
                failures.append(f"{operation.label} ({mode.value}): {_first_lines(exc)}")
    return failures


def _first_lines(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).strip().splitlines() if line.strip()]
    return " | ".join(lines[:5] + [line for line in lines[5:] if line.startswith("curl")])


@pytest.mark.parametrize("service", SERVICES)
async def test_every_operation_answers_as_documented(
    local_stack: LocalStack, dev_issuer: DevIssuer, service: str
) -> None:
    main = importlib.import_module(f"aptt_{service}.main")
    settings_class = importlib.import_module(f"aptt_{service}.settings").Settings
    values = service_settings(
        local_stack,
        service,
        dev_issuer.issuer,
        # The request limits have tests of their own; here they would only hide routes.
        request_limits_enabled=False,
    )
    app = main.build_app(settings_class(**values))
    token = dev_issuer.mint(
        subject=random_id("admin"), district_id=random_id("d"), roles=["district_admin"]
    )
    async with running_app(app) as url:
        failures = await asyncio.to_thread(conformance_failures, url, token)
    assert failures == [], "\n".join(failures)
