"""No PHI in anything the sync writes besides AMD itself (SPEC §2.5)."""

from __future__ import annotations

import pytest

from amdsync.amd.errors import AppointmentConflict, ServerError
from amdsync.domain.bulk import BulkSyncRequest
from amdsync.domain.review import ConflictResolution
from amdsync.sync.bulk import BulkSync
from amdsync.sync.intake import Intake
from amdsync.sync.pull import PullRun
from amdsync.sync.push import RetryLater
from amdsync.sync.resolution import resolve_conflict
from tests.fakes import World
from tests.unit.sync.helpers import demographics, drain, push, register

PHI = {
    "first": "Zebulon",
    "last": "Quaxworthy",
    "dob": "1977-07-19",
    "phone": "5558675309",
    "street": "742 Evergreen Terrace",
    "city": "Shelbyvillex",
}
PHI_SPELLINGS = [
    *PHI.values(),
    "07/19/1977",
    "19770719",
    "7/19/1977",
    "(555) 867-5309",
]


def _register_phi_patient(world: World, patient_id: str, first: str = PHI["first"]) -> None:
    Intake(world.ctx).register_patient(
        patient_id,
        demographics(
            firstName=first,
            lastName=PHI["last"],
            dateOfBirth=PHI["dob"],
            phone=PHI["phone"],
            address={"line1": PHI["street"], "city": PHI["city"], "state": "UT", "zip": "84101"},
        ),
    )


def _everything_written(world: World) -> list[str]:
    texts = [e.model_dump_json() for e in world.logs.entries]
    texts += [repr(point) for point in world.metrics.points]
    texts += [e.model_dump_json() for e in world.feed.entries]
    texts += [c.model_dump_json() for c in world.conflicts.history]
    texts += [e.model_dump_json() for e in world.audit.entries]
    texts += [u.model_dump_json() for u in world.appointments.list_unlinked()]
    texts += [r.model_dump_json() for r in world.appointments.list_all()]
    texts += [r.model_dump_json() for r in world.patients.list_all()]
    texts += [repr(r) for r in world.patients.list_all()]
    texts += [j.model_dump_json() for j in world.queue.sent]
    return texts


def test_no_phi_in_logs_metrics_feed_conflicts_audit_or_records(world: World) -> None:
    # A patient and appointment that sync, get changed on both sides and conflict.
    _register_phi_patient(world, "P-1")
    register(world, "A-1", patientId="P-1")
    drain(world)
    visit = world.appointments.record("A-1").advanced_md_visit_id or ""
    PullRun(world.ctx).run()
    world.amd.person_edits(visit, start="2026-12-01T15:00:00", status_code=1)
    register(world, "A-1", version=2, patientId="P-1", start="2026-12-01T11:00:00")
    drain(world)
    resolve_conflict(
        world.ctx, "A-1", ConflictResolution(keep="amd"), actor="admin@x", role="admin"
    )
    drain(world)
    PullRun(world.ctx).run()

    # A second patient whose creation fails transiently, then is rejected.
    _register_phi_patient(world, "P-2", first="Zebulonia")
    register(world, "A-2", patientId="P-2", start="2026-12-02T10:00:00")
    world.amd.faults.fail("add_patient", ServerError())
    with pytest.raises(RetryLater) as transient:
        push(world, "A-2")
    world.amd.faults.fail("book", AppointmentConflict(amd_code=4101, http_status=409))
    push(world, "A-2")

    # An unlinked AMD appointment for a patient AMD knows by name, and a bulk run.
    world.amd.person_books(start="2026-12-03T09:00:00")
    PullRun(world.ctx).run()
    BulkSync(world.ctx).start(
        BulkSyncRequest.model_validate({"from": "2026-12-01", "to": "2026-12-07"}),
        actor="billing@x",
    )
    drain(world)

    # The scenario really exercised the paths we scan.
    assert world.conflicts.history and world.feed.entries and world.audit.entries
    assert any(e.outcome == "error" for e in world.logs.entries)
    assert {p.first_name for p in world.amd.patients.values()} >= {"ZEBULON", "ZEBULONIA"}

    written = "\n".join([*_everything_written(world), str(transient.value)]).lower()
    leaked = [s for s in PHI_SPELLINGS if s.lower() in written]
    assert leaked == []
    assert world.patients.demographics.get("P-1") is None  # not held once synced
