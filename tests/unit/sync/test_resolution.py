"""Conflict resolution by a person: keep EHR, keep AMD, or merge per field."""

from __future__ import annotations

import pytest

from amdsync.domain.review import ConflictResolution
from amdsync.sync.resolution import ConflictNotFound, resolve_conflict
from tests.fakes import World
from tests.unit.sync.helpers import APPT, drain, register, synced

EHR_START, AMD_START = "2026-12-01T11:00:00", "2026-12-01T15:00:00"


def _conflicted(world: World) -> str:
    """A start time changed differently on both sides, detected by the queued push."""
    visit = synced(world)
    world.amd.person_edits(visit, start=AMD_START, duration_minutes=40)
    register(world, version=2, start=EHR_START, durationMinutes=60)
    drain(world)
    assert world.appointments.record(APPT).amd_sync_status == "conflict"
    world.feed.entries.clear()
    return visit


def _resolve(world: World, keep: str, fields: dict[str, str] | None = None) -> object:
    resolution = ConflictResolution.model_validate({"keep": keep, "fields": fields})
    return resolve_conflict(world.ctx, APPT, resolution, actor="admin@x", role="admin")


def test_keep_ehr_sends_the_ehr_value_on_the_next_push(world: World) -> None:
    visit = _conflicted(world)
    _resolve(world, "ehr")
    assert world.appointments.record(APPT).amd_sync_status == "pending"
    assert world.queue.depth() == 1 and world.queue.deduplicated == []  # not eaten by SQS
    drain(world)
    appt = world.amd.appointment(visit)
    assert (appt.start, appt.duration_minutes) == (EHR_START, 60)
    record = world.appointments.record(APPT)
    assert (record.amd_sync_status, record.start) == ("synced", EHR_START)
    assert world.feed.entries == []
    assert world.conflicts.list() == []
    conflict = world.conflicts.get(APPT)
    assert conflict is not None
    assert (conflict.state, conflict.resolution, conflict.resolved_by) == (
        "resolved",
        "ehr",
        "admin@x",
    )


def test_keep_amd_publishes_and_takes_the_amd_value(world: World) -> None:
    visit = _conflicted(world)
    _resolve(world, "amd")
    record = world.appointments.record(APPT)
    assert (record.start, record.duration_minutes) == (AMD_START, 40)
    assert record.base_snapshot["start"] == AMD_START
    fields = {k: v for e in world.feed.entries for k, v in e.fields.items()}
    assert fields == {"start": AMD_START, "durationMinutes": 40}
    calls = world.amd.calls_made()
    drain(world)
    assert world.amd.calls[calls:] == ["get_appointment"]  # nothing to send
    assert world.amd.appointment(visit).start == AMD_START
    assert world.appointments.record(APPT).amd_sync_status == "synced"


def test_merge_picks_a_side_per_field(world: World) -> None:
    visit = _conflicted(world)
    _resolve(world, "merge", {"start": "amd", "durationMinutes": "ehr"})
    drain(world)
    appt = world.amd.appointment(visit)
    assert (appt.start, appt.duration_minutes) == (AMD_START, 60)
    record = world.appointments.record(APPT)
    assert (record.start, record.duration_minutes, record.amd_sync_status) == (
        AMD_START,
        60,
        "synced",
    )


def test_merge_must_name_every_field(world: World) -> None:
    _conflicted(world)
    with pytest.raises(ValueError, match="durationMinutes"):
        _resolve(world, "merge", {"start": "amd"})
    assert world.conflicts.list() != []


def test_resolution_is_audited(world: World) -> None:
    _conflicted(world)
    _resolve(world, "ehr")
    [entry] = world.audit.entries
    assert (entry.subject, entry.role, entry.action, entry.entity_id, entry.outcome) == (
        "admin@x",
        "admin",
        "conflict_resolve",
        APPT,
        "success",
    )
    assert entry.details == {"keep": "ehr"}


def test_an_unknown_or_resolved_conflict_cannot_be_resolved(world: World) -> None:
    with pytest.raises(ConflictNotFound):
        _resolve(world, "ehr")
    _conflicted(world)
    _resolve(world, "ehr")
    with pytest.raises(ConflictNotFound):
        _resolve(world, "amd")
