"""Schemathesis against docs/openapi.json on the local stack's HTTP front, once per role.

`test_no_5xx_and_bodies_conform` (quick profile, in `make test`): no response is a 5xx (a
502/503 problem naming an AMD condition, which SPEC §4 prescribes, excepted), and every body
whose status the document declares matches its schema.

`test_full_conformance` (`AMDSYNC_RELIABILITY=full` only, `make reliability`): every default
check except `positive_data_acceptance` (it calls a business-rule rejection of a schema-valid
request a failure, e.g. a 40-day range; those rules are not expressible in the schema). Status
codes and content types must be documented too — see docs/reliability.md for what it finds.

Driven with hypothesis directly (`operation.as_strategy()` + `case.call_and_validate`), so one
run lists every failing operation instead of stopping at the first.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance, response_schema_conformance

from local.runner.tokens import DEV_ROLES

FULL = os.environ.get("AMDSYNC_RELIABILITY", "").lower() == "full"


def no_bare_server_error(ctx: Any, response: Any, case: Any) -> bool | None:
    """No 5xx, except what SPEC §4 prescribes for AMD trouble: 502/503 as problem+json naming
    the AMD condition (e.g. AMD_UNAVAILABLE, RATE_LIMITED), never a bare 500."""
    if response.status_code < 500:
        return True
    body = response.text or ""
    allowed = response.status_code in (502, 503) and (
        "problem+json" in response.headers.get("content-type", [""])[0]
        if isinstance(response.headers.get("content-type"), list)
        else "problem+json" in str(response.headers.get("content-type", ""))
    )
    if allowed and ("AMD_" in body or "RATE_LIMITED" in body):
        return True
    raise AssertionError(f"server error {response.status_code}: {body[:200]}")


def _fuzz(schema: Any, token: str, examples: int, **checks: Any) -> tuple[int, dict[str, str]]:
    headers = {"Authorization": f"Bearer {token}"}
    failures: dict[str, str] = {}
    calls = 0
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(
            max_examples=examples,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def exercise(case: Any) -> None:
            nonlocal calls
            calls += 1
            case.call_and_validate(headers=headers, timeout=60, **checks)

        try:
            exercise()
        except (Exception, BaseExceptionGroup) as exc:  # list every failing operation
            failures[operation.label] = _summary(exc)
    return calls, failures


@pytest.mark.parametrize("role", DEV_ROLES)
@pytest.mark.timeout(300)
def test_no_5xx_and_bodies_conform(role: str, api_schema: Any, tokens: dict[str, str]) -> None:
    checks = [no_bare_server_error, response_schema_conformance]
    calls, failures = _fuzz(api_schema, tokens[role], 40 if FULL else 3, checks=checks)
    assert calls > 0
    assert failures == {}, "\n".join(f"{k}: {v}" for k, v in failures.items())


@pytest.mark.full
@pytest.mark.parametrize("role", DEV_ROLES)
@pytest.mark.timeout(900)
def test_full_conformance(role: str, api_schema: Any, tokens: dict[str, str]) -> None:
    calls, failures = _fuzz(
        api_schema, tokens[role], 25, excluded_checks=[positive_data_acceptance]
    )
    assert calls > 0
    assert failures == {}, "\n".join(f"{k}: {v}" for k, v in failures.items())


def _summary(exc: BaseException) -> str:
    """The distinct schemathesis check titles (and one curl) of a failure, compactly."""
    text = str(exc)
    for inner in getattr(exc, "exceptions", ()):  # hypothesis' Flaky wraps the real failure
        text += "\n" + str(inner)
    titles = sorted({line.strip() for line in text.splitlines() if line.strip().startswith("- ")})
    curl = next((line.strip() for line in text.splitlines() if "curl " in line), "")
    return "; ".join(titles or [text[:300]]) + (f"\n    {curl[:300]}" if curl else "")
