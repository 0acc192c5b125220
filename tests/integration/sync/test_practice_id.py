"""The office key lives only in the secret (issue 16): stored keys, queue messages and log
entries name the practice by its opaque id."""

from __future__ import annotations

import json
import re

from tests.integration.sync.conftest import World, work_day


def _items(world: World, table: str) -> list[dict[str, object]]:
    dynamodb = world.stack.client("dynamodb")
    name = world.stack.tables[table]
    return [
        item
        for page in dynamodb.get_paginator("scan").paginate(TableName=name)
        for item in page["Items"]
    ]


def test_no_sync_record_message_or_log_carries_the_office_key(world: World) -> None:
    office_key = world.sim.office_key
    assert world.ctx.practice == world.settings.practice_id != office_key
    patient, appt = world.id("P"), world.id("A")
    world.register_patient(patient)
    world.register(appt, patient, work_day(2, 9))
    queued = world.stack.client("sqs").receive_message(
        QueueUrl=world.settings.sync_queue_url, MaxNumberOfMessages=10, VisibilityTimeout=0
    )["Messages"]
    assert queued and all(office_key not in m["Body"] for m in queued)
    assert json.loads(queued[0]["Body"])["practice"] == world.settings.practice_id
    world.drain()
    assert world.pull().status == "ok"
    # AdvancedMD's own identity (token, lease, pacing item, lookup cache) included. As a whole
    # number: a timestamp's digits may contain the same run of digits.
    whole = re.compile(rf"(?<![0-9]){re.escape(office_key)}(?![0-9])")
    tokens = 0
    for table in ("SyncStateTable", "LogsTable", "AuditTable", "ControlTable", "CacheTable"):
        for item in _items(world, table):
            tokens += _drop_amd_token(item)
            assert not whole.search(json.dumps(item, default=str)), (table, item["pk"])
    assert tokens == 1  # the one shared token cache item


def _drop_amd_token(item: dict[str, object]) -> int:
    """AMD's token is its own opaque secret, and by AMD's format it starts with the office key
    (PROTOCOL: "office key + 64 hex digits"): the token cache item must hold it. Everything else
    in that item (its key, the webserver, the times) is still scanned."""
    if item.get("sk") != {"S": "TOKEN"}:
        return 0
    assert isinstance(item.pop("token", None), dict), item["pk"]
    return 1
