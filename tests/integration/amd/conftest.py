"""Every test here runs under a log scan: no patient name, DOB, password, token or full office
key may appear in any captured log record (message, args or `extra` fields)."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator

import pytest

SCANNED_PHASES = ("setup", "call", "teardown")


def _secrets(handle) -> list[re.Pattern[str]]:
    state = handle.sim.state
    with state.lock:
        names = {p.name for p in state.patients.values()}
        dobs = {p.dob for p in state.patients.values()}
        tokens = set(state.tokens)
    words = [handle.password, handle.office_key, *tokens]
    patterns = [re.compile(rf"\b{re.escape(w)}\b") for w in words if w]
    patterns += [re.compile(re.escape(n)) for n in names if n]
    for dob in dobs:
        patterns.append(re.compile(re.escape(dob.strftime("%m/%d/%Y"))))
        patterns.append(re.compile(re.escape(dob.isoformat())))
    return patterns


def _render(record: logging.LogRecord) -> str:
    return f"{record.getMessage()} {record.__dict__!r}"


@pytest.fixture(autouse=True)
def _scan_logs_for_phi_and_secrets(
    request: pytest.FixtureRequest, caplog: pytest.LogCaptureFixture
) -> Iterator[None]:
    # Production level for libraries (INFO); everything of ours down to DEBUG. botocore's DEBUG
    # output echoes request parameters (the token item included): it must stay off in Lambda.
    caplog.set_level(logging.INFO)
    caplog.set_level(logging.DEBUG, logger="amdsync")
    handle = request.getfixturevalue("amd_sim_server")
    yield
    patterns = _secrets(handle)
    leaks = []
    for phase in SCANNED_PHASES:
        for record in caplog.get_records(phase):
            if record.name.startswith("local."):
                continue  # the simulator's own logs are not the product's
            text = _render(record)
            leaks += [f"{record.name}: {p.pattern}" for p in patterns if p.search(text)]
    assert not leaks, f"sensitive values in logs: {leaks[:5]}"
