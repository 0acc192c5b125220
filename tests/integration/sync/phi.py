"""The PHI and secret scan every test in this package ends with (SPEC §2.5).

Searched: every log record the test produced (ours at DEBUG, libraries at INFO: botocore's DEBUG
echoes request parameters and must stay off in Lambda), every DynamoDB item of every table
(sync records, sync logs, audit, change feed, conflicts, control, caches) and every metric.
Looked for: the names and dates of birth of the simulator's patients and of the patients the test
registered, the AMD password as a JSON/XML value, every token the simulator issued, and the
unmasked office key in log messages (it is legitimately part of DynamoDB keys and ids).

Three items may hold sensitive values by design, and are checked for that design instead:
the patient's DEMOGRAPHICS and CREATE_INTENT items (encrypted at rest, deleted once the patient
is in AMD) and the token cache item (the token itself, encrypted at rest).
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

import pytest

SCANNED_PHASES = ("setup", "call", "teardown")
PHI_SKS = ("DEMOGRAPHICS", "CREATE_INTENT")
TOKEN_SK = "TOKEN"


def _dob_patterns(iso: str) -> list[str]:
    year, month, day = iso.split("-")
    return [iso, f"{month}/{day}/{year}"]


def sensitive(world: Any) -> tuple[list[re.Pattern[str]], list[re.Pattern[str]], re.Pattern[str]]:
    """(PHI and password patterns, token patterns, office key pattern)."""
    from tests.integration.sync.conftest import PATIENT_DOB, PATIENT_NAME  # noqa: PLC0415

    state = world.sim.sim.state
    with state.lock:
        names = {p.name for p in state.patients.values()}
        dobs = {p.dob.isoformat() for p in state.patients.values()}
        tokens = set(state.tokens)
    words = {*names, *PATIENT_NAME, *world.registered_names}
    dates = {*dobs, PATIENT_DOB, *world.registered_dobs}
    phi = [re.compile(re.escape(w), re.IGNORECASE) for w in words if w]
    phi += [re.compile(re.escape(d)) for iso in dates for d in _dob_patterns(iso)]
    password = re.escape(world.sim.password)
    phi.append(re.compile(rf"(password|psw)\W{{0,6}}{password}\b", re.IGNORECASE))
    token_patterns = [re.compile(re.escape(t)) for t in tokens if t]
    office_key = re.compile(rf"(?<!\d){re.escape(world.sim.office_key)}(?!\d)")
    return phi, token_patterns, office_key


def _render(record: logging.LogRecord) -> str:
    return f"{record.getMessage()} {record.__dict__!r}"


def scan_logs(world: Any, caplog: pytest.LogCaptureFixture) -> list[str]:
    phi, tokens, office_key = sensitive(world)
    leaks = []
    for phase in SCANNED_PHASES:
        for record in caplog.get_records(phase):
            if record.name.startswith("local."):
                continue  # the simulator's and the runner's own logs are not the product's
            text = _render(record)
            leaks += [f"log {record.name}: {p.pattern}" for p in [*phi, *tokens] if p.search(text)]
            if office_key.search(record.getMessage()):
                leaks.append(f"log {record.name}: office key in message")
    return leaks


def table_items(world: Any) -> dict[str, list[dict[str, Any]]]:
    dynamodb = world.stack.client("dynamodb")
    items: dict[str, list[dict[str, Any]]] = {}
    for logical_id, name in world.stack.tables.items():
        rows: list[dict[str, Any]] = []
        for page in dynamodb.get_paginator("scan").paginate(TableName=name):
            rows += page["Items"]
        items[logical_id] = rows
    return items


def scan_tables(world: Any) -> list[str]:
    phi, tokens, _ = sensitive(world)
    leaks = []
    synced_patients = {
        p.patient_id for p in world.ctx.patients.list_all() if p.advanced_md_patient_id
    }
    for logical_id, rows in table_items(world).items():
        for item in rows:
            sk = item.get("sk", {}).get("S", "")
            text = json.dumps(item, sort_keys=True)
            if sk in PHI_SKS:
                # Allowed only until the patient is in AMD (SPEC §3).
                pk = item["pk"]["S"]
                if any(pk.endswith(f"#{pid}") for pid in synced_patients):
                    leaks.append(f"{logical_id}: {sk} kept after sync ({pk})")
                continue
            leaks += [f"{logical_id} {sk}: {p.pattern}" for p in phi if p.search(text)]
            if sk != TOKEN_SK:
                leaks += [f"{logical_id} {sk}: a token" for p in tokens if p.search(text)]
    return leaks


def scan_metrics(world: Any) -> list[str]:
    phi, tokens, office_key = sensitive(world)
    text = json.dumps(world.metrics.points)
    leaks = [f"metrics: {p.pattern}" for p in [*phi, *tokens] if p.search(text)]
    if office_key.search(text):
        leaks.append("metrics: office key")
    return leaks


def assert_clean(world: Any, caplog: pytest.LogCaptureFixture) -> None:
    leaks = scan_logs(world, caplog) + scan_tables(world) + scan_metrics(world)
    assert not leaks, f"sensitive values written: {leaks[:8]}"
