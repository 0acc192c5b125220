"""Budgets that fit (SPEC §9.3, issue 15 item 5): the AMD client's HTTP timeouts and retries are
derived from the function's timeout so one call's worst case fits with a margin, and template.yaml
tells every function its own timeout."""

from __future__ import annotations

import pytest
from cfnlint.decode import decode

from amdsync.amd.budget import (
    MIN_MARGIN_SECONDS,
    MIN_READ_SECONDS,
    Deadline,
    OutOfTime,
    derive_budget,
    worst_case_seconds,
)
from amdsync.amd.errors import RateLimited
from amdsync.amd.retry import RetryPolicy
from amdsync.amd.transport import Timeouts
from tests.lambda_support import REPO


def test_the_old_defaults_did_not_fit_the_functions() -> None:
    """30 s reads x 4 attempts: the reason for this module (issue 15)."""
    assert worst_case_seconds(Timeouts(), RetryPolicy()) > 120


@pytest.mark.parametrize("timeout", [3, 10, 30, 60, 120, 900])
def test_one_calls_worst_case_fits_the_function_with_a_margin(timeout: int) -> None:
    budget = derive_budget(timeout)
    margin = max(MIN_MARGIN_SECONDS, 0.1 * timeout)
    assert budget.margin_seconds == pytest.approx(margin)
    assert budget.worst_call_seconds <= max(timeout - margin, 1.0) + 1e-9 or timeout < 5
    assert 1 <= budget.retry.max_attempts <= RetryPolicy().max_attempts
    assert 0 < budget.timeouts.connect <= Timeouts().connect
    assert 1.0 <= budget.timeouts.read <= Timeouts().read


def test_longer_functions_get_more_attempts_and_reads_worth_making() -> None:
    api, worker, pull = derive_budget(30), derive_budget(60), derive_budget(120)
    assert api.retry.max_attempts <= worker.retry.max_attempts <= pull.retry.max_attempts
    assert api.worst_call_seconds < worker.worst_call_seconds < pull.worst_call_seconds
    assert pull.retry.max_attempts == RetryPolicy().max_attempts
    assert min(b.timeouts.read for b in (api, worker, pull)) >= MIN_READ_SECONDS


def test_without_a_function_timeout_the_defaults_stand() -> None:
    budget = derive_budget(None)
    assert (budget.timeouts, budget.retry.max_attempts) == (Timeouts(), 4)


def _functions() -> dict[str, dict[str, object]]:
    template, problems = decode(str(REPO / "template.yaml"))
    assert not problems
    default = template["Globals"]["Function"]["Timeout"]
    return {
        name: {
            "timeout": r["Properties"].get("Timeout", default),
            "env": r["Properties"].get("Environment", {}).get("Variables", {}),
        }
        for name, r in template["Resources"].items()
        if r["Type"] == "AWS::Serverless::Function"
    }


@pytest.mark.parametrize("name", sorted(_functions()))
def test_every_function_is_told_its_own_timeout(name: str) -> None:
    function = _functions()[name]
    env = function["env"]
    assert isinstance(env, dict)
    assert float(env["FUNCTION_TIMEOUT_SECONDS"]) == float(str(function["timeout"]))
    budget = derive_budget(float(env["FUNCTION_TIMEOUT_SECONDS"]))
    assert budget.worst_call_seconds < float(str(function["timeout"]))


def test_a_deadline_refuses_a_write_that_would_not_fit() -> None:
    left = [10.0]
    deadline = Deadline()
    deadline.check_write(1000.0)  # unknown (CLI, tests): never refused
    deadline.start(lambda: left[0])
    deadline.check_write(9.5)
    left[0] = 9.0
    with pytest.raises(OutOfTime) as caught:
        deadline.check_write(9.5)
    # A RateLimited: the worker defers it like a budget wait (no attempt spent).
    assert isinstance(caught.value, RateLimited) and caught.value.retry_after >= 1.0
