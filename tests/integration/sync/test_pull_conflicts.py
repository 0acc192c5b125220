"""Pull crash recovery and conflict handling (SPEC §2.2-2.3, §6 "Pull", "Conflicts")."""

from __future__ import annotations

from typing import Any

import pytest

from amdsync.domain.review import ConflictResolution
from amdsync.sync.resolution import resolve_conflict
from tests.integration.sync.conftest import World, work_day
from tests.integration.sync.invariants import assert_sim_clean


class Crash(Exception):
    """Stands in for the Lambda dying at that point."""


def _synced_pair(world: World) -> tuple[str, list[tuple[str, str]]]:
    patient = world.id("P")
    world.register_patient(patient)
    out = []
    for n, hour in enumerate((9, 13)):
        appt = world.id(f"A{n}")
        world.register(appt, patient, work_day(3, hour))
        out.append(appt)
    world.drain()
    return patient, [(a, str(world.record(a).advanced_md_visit_id)) for a in out]


def _crash_on(monkeypatch: pytest.MonkeyPatch, target: Any, name: str, call_no: int) -> None:
    original = getattr(target, name)
    seen = {"calls": 0}

    def crashing(*args: Any, **kwargs: Any) -> Any:
        seen["calls"] += 1
        if seen["calls"] == call_no:
            raise Crash(name)
        return original(*args, **kwargs)

    monkeypatch.setattr(target, name, crashing)


@pytest.mark.parametrize(
    ("step", "store", "method", "call_no"),
    [
        ("before apply", "appointments", "owners_of_visits", 1),
        # After the piece's feed entries are published, before its records are saved.
        ("mid apply", "appointments", "save_each", 1),
        ("before watermark advance", "watermark", "advance", 1),
    ],
)
def test_a_pull_that_crashes_is_caught_up_by_the_next(
    world: World, monkeypatch: pytest.MonkeyPatch, step: str, store: str, method: str,
    call_no: int,
) -> None:  # fmt: skip
    _, pair = _synced_pair(world)
    assert world.pull().status == "ok"  # bootstrap: the watermark now exists
    watermark = world.ctx.watermark.get()
    (moved, moved_visit), (cancelled, cancelled_visit) = pair
    new_start = work_day(3, 10, 30)
    world.sim.admin.edit_appointment(int(moved_visit), start=new_start.isoformat())
    world.sim.admin.edit_appointment(int(cancelled_visit), status=10)

    with monkeypatch.context() as patch:
        _crash_on(patch, getattr(world.ctx, store), method, call_no)
        with pytest.raises(Crash):
            world.pull()
    assert world.ctx.watermark.get().value == watermark.value, step  # not advanced
    summary = world.pull()

    assert summary.status == "ok"
    assert world.ctx.watermark.get().value != watermark.value
    assert world.record(moved).start == new_start.isoformat(timespec="seconds")
    assert world.record(cancelled).status == "CANCELLED"
    kinds = [(e.appointment_id, e.kind) for e in world.feed()]
    # Each change exactly once: the replayed piece publishes only what it had not.
    assert sorted(k for k in kinds if k[0] in (moved, cancelled)) == sorted(
        [(moved, "time"), (cancelled, "cancelled")]
    )
    again = world.pull()
    assert (again.updated, again.cancelled) == (0, 0)
    assert_sim_clean(world.report())


def _both_edit_start(world: World) -> tuple[str, str, str, str]:
    patient = world.id("P")
    world.register_patient(patient)
    appt = world.id("A")
    world.register(appt, patient, work_day(3, 9))
    world.drain()
    visit = str(world.record(appt).advanced_md_visit_id)
    assert world.pull().status == "ok"  # bootstrap: base agreed by both sides
    amd_start, ehr_start = work_day(3, 11), work_day(3, 14)
    world.sim.admin.edit_appointment(int(visit), start=amd_start.isoformat())
    world.register(appt, patient, ehr_start, version=2)  # queued, not yet pushed
    return (
        appt,
        visit,
        amd_start.isoformat(timespec="seconds"),
        ehr_start.isoformat(timespec="seconds"),
    )


def _amd_start(world: World, visit: str) -> str:
    return str(world.sim.admin.appointment(int(visit))["startdatetime"])[:19]


def test_the_same_field_changed_on_both_sides_is_one_conflict_under_manual(
    world: World,
) -> None:
    appt, visit, amd_start, ehr_start = _both_edit_start(world)

    summary = world.pull()
    world.drain()  # the EHR's push meets the same conflict: still one

    assert summary.conflicts == 1
    conflicts = world.ctx.conflicts.list()
    assert len(conflicts) == 1
    values = conflicts[0].fields["start"]
    assert (values.ehr, values.amd) == (ehr_start, amd_start)
    assert world.record(appt).amd_sync_status == "conflict"
    assert _amd_start(world, visit) == amd_start  # nothing overwritten

    resolve_conflict(
        world.ctx, conflicts[0].conflict_id, ConflictResolution(keep="ehr"), "admin-1", "admin"
    )
    world.drain()

    assert _amd_start(world, visit) == ehr_start
    assert world.record(appt).amd_sync_status == "synced"
    assert world.ctx.conflicts.list() == []
    assert world.ctx.conflicts.list(state="resolved")[0].resolution == "ehr"
    assert_sim_clean(world.report())


def test_resolving_a_conflict_for_amd_publishes_amd_value(world: World) -> None:
    appt, visit, amd_start, _ = _both_edit_start(world)
    world.pull()
    [conflict] = world.ctx.conflicts.list()
    before = len(world.feed())

    resolve_conflict(
        world.ctx, conflict.conflict_id, ConflictResolution(keep="amd"), "admin-1", "admin"
    )
    world.drain()

    assert world.record(appt).start == amd_start
    assert world.record(appt).amd_sync_status == "synced"
    assert _amd_start(world, visit) == amd_start
    published = world.feed()[before:]
    assert [(e.kind, e.fields.get("start")) for e in published] == [("time", amd_start)]
    assert_sim_clean(world.report())


@pytest.mark.parametrize("policy", ["ehr_wins", "amd_wins"])
def test_a_policy_picks_the_winner_without_a_conflict(world: World, policy: str) -> None:
    world.set_policy(policy)
    appt, visit, amd_start, ehr_start = _both_edit_start(world)

    summary = world.pull()
    world.drain()
    world.pull()

    winner = ehr_start if policy == "ehr_wins" else amd_start
    assert summary.conflicts == 0 and world.ctx.conflicts.list(state=None) == []
    assert _amd_start(world, visit) == winner
    assert world.record(appt).start == winner
    assert world.record(appt).amd_sync_status == "synced"
    assert_sim_clean(world.report())


def test_different_fields_changed_on_each_side_merge(world: World) -> None:
    patient = world.id("P")
    world.register_patient(patient)
    appt = world.id("A")
    world.register(appt, patient, work_day(3, 9))
    world.drain()
    visit = str(world.record(appt).advanced_md_visit_id)
    world.pull()
    world.sim.admin.edit_appointment(int(visit), duration=30)  # AMD: duration
    ehr_start = work_day(3, 14)
    world.register(appt, patient, ehr_start, version=2)  # EHR: start

    summary = world.pull()
    world.drain()

    assert summary.conflicts == 0 and world.ctx.conflicts.list(state=None) == []
    amd = world.sim.admin.appointment(int(visit))
    assert (str(amd["startdatetime"])[:19], amd["duration"]) == (
        ehr_start.isoformat(timespec="seconds"),
        30,
    )
    record = world.record(appt)
    assert (record.start, record.duration_minutes) == (ehr_start.isoformat(timespec="seconds"), 30)
    assert record.amd_sync_status == "synced"
    assert [e.fields for e in world.feed() if e.kind == "duration"] == [{"durationMinutes": 30}]
    assert_sim_clean(world.report())
