"""The office key lives only in the secret (issue 16): stored keys, queue messages and log
entries name the practice by its opaque id."""

from __future__ import annotations

import json

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
    for table in ("SyncStateTable", "LogsTable", "AuditTable", "ControlTable"):
        for item in _items(world, table):
            if str(item["pk"]).startswith("{'S': 'OFFICE#"):
                continue  # AdvancedMD's own identity (token, budgets): hashed separately
            assert office_key not in json.dumps(item, default=str), (table, item["pk"])
