"""Recount the dashboard counters from the stored records (store/counters.py), once after
deploying the release that introduced them, or whenever an operator doubts them:

    python -m amdsync.store.recount        # with the functions' table variables set

It reads every record of the practice (the one place that does: an operator's tool, never a
request path), then replaces the counter items.
"""

from __future__ import annotations

import boto3

from amdsync.config import TableSettings, load_settings
from amdsync.store.admin import DynamoConflicts
from amdsync.store.appointments import DynamoAppointments
from amdsync.store.patients import DynamoPatients


def recount(settings: TableSettings, dynamodb: object | None = None) -> None:
    resource = dynamodb or boto3.resource("dynamodb")
    table = resource.Table(settings.sync_table)  # type: ignore[attr-defined]
    for store in (
        DynamoAppointments(table, settings.practice_id),
        DynamoPatients(table, settings.practice_id),
        DynamoConflicts(table, settings.practice_id),
    ):
        store.rebuild_counts()


if __name__ == "__main__":
    recount(load_settings(TableSettings))
    print("dashboard counters recounted")
