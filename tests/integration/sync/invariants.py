"""What every scenario asserts about the simulator at the end (SPEC §2 promises 1 and 4)."""

from __future__ import annotations

from typing import Any


def counters(report: dict[str, Any]) -> dict[str, Any]:
    """The counters a scenario is judged by, in one line for failure messages and the report."""
    return {
        "duplicate_appointments": report["duplicate_appointments"],
        "duplicate_patients": report["duplicate_patients"],
        "violations": report["violations"]["count"],
        "logins": report["logins"],
        "http_429": report["http_429"],
        "rate_limited": report["rate_limited"]["total"],
        "faults": report["faults_injected"],
        "calls": report["calls"]["by_action"],
    }


def assert_sim_clean(
    report: dict[str, Any], *, logins: int = 1, http_429: int = 0, violations: int = 0
) -> dict[str, Any]:
    seen = counters(report)
    assert seen["duplicate_appointments"] == 0, seen
    assert seen["duplicate_patients"] == 0, seen
    assert seen["violations"] == violations, (seen, report["violations"]["items"])
    assert seen["logins"] == logins, seen
    assert seen["http_429"] == http_429, seen
    return seen


def calls(report: dict[str, Any], action: str) -> int:
    return int(report["calls"]["by_action"].get(action, 0))
