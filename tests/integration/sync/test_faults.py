"""Fault scenarios (SPEC §2.1, §6): each asserts the final record and the simulator's counters.

Across all: 0 duplicate appointments, 0 duplicate patients, 0 protocol violations, and exactly
the logins and 429s the scenario causes.
"""

from __future__ import annotations

import threading

import pytest

from amdsync.amd.budget import derive_budget
from amdsync.domain.errors import SyncErrorCode
from amdsync.jobs import SyncJob
from amdsync.sync.reports import stats_for
from amdsync.sync.worker import JobProcessor
from tests.integration.sync.conftest import PATIENT_DOB, PATIENT_NAME, World, work_day
from tests.integration.sync.invariants import assert_sim_clean, calls


def _one_appointment(world: World, appt: str) -> dict:
    record = world.record(appt)
    assert record.amd_sync_status == "synced", record
    assert record.amd_sync_error_code is None and record.attempts == 0
    mine = [a for a in world.amd_appointments() if a["referenceid"] == world.ctx.reference_id(appt)]
    assert len(mine) == 1, mine
    assert str(mine[0]["id"]) == record.advanced_md_visit_id
    return mine[0]


def _patient_synced(world: World) -> str:
    patient = world.id("P")
    world.register_patient(patient)
    world.drain()
    return patient


@pytest.mark.parametrize(
    ("kind", "count"), [("http500", 1), ("http500", 5), ("timeout", 1), ("timeout", 4)]
)
def test_create_survives_server_errors_and_timeouts(world: World, kind: str, count: int) -> None:
    patient = _patient_synced(world)
    appt = world.id("A")
    world.sim.admin.faults(kind, count=count, action="appointments.create", delay_ms=50)
    world.register(appt, patient, work_day(2, 10))

    decisions = world.drain()

    # Nothing was committed by these faults. The client retries a create only after asking AMD
    # by reference id whether it went through (the attempts the worker's budget allows for its
    # function timeout, amd/budget.py); past that the job itself retries.
    attempts = derive_budget(world.settings.function_timeout_seconds).retry.max_attempts
    retries = [d for d in decisions if d.kind == "retry"]
    assert len(retries) == count // attempts
    assert {d.code for d in retries} <= {SyncErrorCode.AMD_UNAVAILABLE}
    _one_appointment(world, appt)
    report = world.report()
    assert report["faults_injected"] == {kind: count}
    assert calls(report, "appointments.create") == 1  # faulted attempts never reached AMD
    assert calls(report, "getvisitidbyrefid") == count
    assert_sim_clean(report)


def test_a_create_committed_before_the_connection_dropped_is_found_not_repeated(
    world: World,
) -> None:
    patient = _patient_synced(world)
    appt = world.id("A")
    world.sim.admin.faults("drop", action="appointments.create")
    world.register(appt, patient, work_day(2, 10))

    decisions = world.drain()

    assert [d.kind for d in decisions] == ["done"]
    _one_appointment(world, appt)
    report = world.report()
    assert world.sim.admin.call("GET", "faults")["pending"] == []  # the drop happened
    # Committed, then the reply was lost: the reference-id check found it, no second POST.
    assert calls(report, "appointments.create") == 1
    assert calls(report, "getvisitidbyrefid") == 1
    assert_sim_clean(report)


def test_session_expiry_mid_batch_costs_one_relogin(world: World) -> None:
    patient = _patient_synced(world)
    appts = [world.id(f"A{n}") for n in range(4)]
    for n, appt in enumerate(appts[:2]):
        world.register(appt, patient, work_day(2, 9 + n))
    world.drain()
    world.sim.admin.expire_tokens()
    for n, appt in enumerate(appts[2:]):
        world.register(appt, patient, work_day(2, 12 + n))

    decisions = world.drain()

    assert {d.kind for d in decisions} == {"done"}
    for appt in appts:
        _one_appointment(world, appt)
    report = world.report()
    # The call that discovers the expiry presents the token AMD ended early once (nothing else
    # tells a client) - counted as a use, not a violation. Then one re-login.
    assert report["expired_token_uses"] == 1
    assert_sim_clean(report, logins=2, violations=0)


def test_an_amd_429_defers_the_job_until_the_window_passes(world: World) -> None:
    patient = _patient_synced(world)
    appt = world.id("A")
    world.sim.admin.faults("429", action="appointments.create")
    world.register(appt, patient, work_day(2, 10))

    first = world.drain()
    # AMD's 429 held the budget for a full window (60 s + margin) for every process: the job
    # waits for it (never counted as a failure), and meanwhile the worker does not call AMD.
    assert first and {d.kind for d in first} == {"defer"}
    assert all(60 < d.delay <= 62.01 for d in first)
    assert len(first) == 1 and world.held  # held by SQS for the wait, not spinning
    record = world.record(appt)
    assert record.amd_sync_status == "pending" and record.attempts == 0
    assert world.report()["faults_injected"] == {"429": 1}
    world.next_rate_window()
    assert [d.kind for d in world.drain()] == ["done"]

    _one_appointment(world, appt)
    report = world.report()
    assert calls(report, "appointments.create") == 1
    assert_sim_clean(report, http_429=1)


def test_a_429_burst_is_waited_out_counted_and_nothing_lost(world: World) -> None:
    """The make-test twin of tests/e2e/test_bulk_and_faults.py::
    test_a_429_burst_is_waited_out_and_counted (marked slow: on the local stack the product holds
    its budgets for a real 62 s window). Here the window passes by `next_rate_window`."""
    patient = _patient_synced(world)
    first = world.id("A8")
    world.register(first, patient, work_day(2, 8))
    assert [d.kind for d in world.drain()] == ["done"]
    waits_before = stats_for(world.ctx, "24h").rate_limit_waits
    world.sim.admin.faults("429", action="appointments.create")

    booked = [world.id(f"A{hour}") for hour in (9, 10, 11)]
    for hour, appt in zip((9, 10, 11), booked, strict=True):
        world.register(appt, patient, work_day(2, hour))
    during = world.drain()

    # Every job waits for the window (none fails, none hot-retries), and the waits are counted.
    assert during and {d.kind for d in during} == {"defer"}, during
    assert all(world.record(appt).amd_sync_status == "pending" for appt in booked)
    assert stats_for(world.ctx, "24h").rate_limit_waits > waits_before
    world.next_rate_window()
    assert {d.kind for d in world.drain()} == {"done"}

    for appt in (first, *booked):
        _one_appointment(world, appt)
    report = world.report()
    assert calls(report, "appointments.create") == 4
    assert len(world.amd_appointments(date=work_day(2, 8).date().isoformat())) == 4
    assert_sim_clean(report, http_429=1)


def test_an_overlap_is_a_business_error_and_never_retried(world: World) -> None:
    patient = _patient_synced(world)
    first, second = world.id("A1"), world.id("A2")
    world.register(first, patient, work_day(2, 10), provider="DR-2")
    world.drain()
    world.register(second, patient, work_day(2, 10, 15), provider="DR-2")

    decisions = world.drain()

    assert [d.kind for d in decisions] == ["done"]
    record = world.record(second)
    assert record.amd_sync_status == "error"
    assert record.amd_sync_error_code is SyncErrorCode.AMD_OVERLAP
    assert record.advanced_md_visit_id is None and record.attempts == 1
    _one_appointment(world, first)
    report = world.report()
    assert calls(report, "appointments.create") == 2  # one each, the overlap not retried
    assert_sim_clean(report)


def test_a_patient_already_in_amd_is_linked_not_created(world: World) -> None:
    existing = world.sim.admin.patients()[3]
    world.sim.admin.edit_patient(
        existing["id"], name=f"{PATIENT_NAME[1]},{PATIENT_NAME[0]}", dob=PATIENT_DOB
    )
    patient, appt = world.id("P"), world.id("A")
    world.register_patient(patient)
    world.register(appt, patient, work_day(2, 10))

    world.drain()

    stored = world.ctx.patients.get(patient)
    assert stored is not None and stored.value.amd_sync_status == "synced"
    assert stored.value.advanced_md_patient_id == str(existing["id"])
    assert str(_one_appointment(world, appt)["patientid"]) == str(existing["id"])
    report = world.report()
    assert calls(report, "lookuppatient") == 1 and calls(report, "addpatient") == 0
    assert_sim_clean(report)


def test_record_changed_by_another_user_on_updatepatient_is_reread_and_retried(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    patient = _patient_synced(world)
    stored = world.ctx.patients.get(patient)
    assert stored is not None
    amd_id = int(stored.value.advanced_md_patient_id or 0)
    patients_api = world.services.amd.patients
    read = patients_api.demographic
    edits = iter([{"name": "QUILLFEATHER,ZEPHYRINE ANN"}])

    def read_then_someone_edits(patient_id: str) -> object:
        current = read(patient_id)
        for edit in edits:  # the first read only: a front-desk edit lands before our write
            world.sim.admin.edit_patient(amd_id, **edit)
        return current

    monkeypatch.setattr(patients_api, "demographic", read_then_someone_edits)
    world.register_patient(patient, last="QUILLFEATHER-MOSS", version=2)

    world.drain()

    stored = world.ctx.patients.get(patient)
    assert stored is not None and stored.value.amd_sync_status == "synced"
    assert world.sim.admin.patient(amd_id)["name"] == "QUILLFEATHER-MOSS,ZEPHYRINE"
    report = world.report()
    assert calls(report, "updatepatient") == 2  # 4106, then the write on re-read values
    assert calls(report, "getdemographic") == 2
    assert_sim_clean(report)


def test_the_same_message_delivered_five_times_books_once(world: World) -> None:
    patient = _patient_synced(world)
    appt = world.id("A")
    world.ctx.settings.save(
        world.ctx.settings.get().value.model_copy(update={"auto_sync_appointments": False}), 0
    )
    world.register(appt, patient, work_day(2, 10))
    job = SyncJob(kind="appointment", entityId=appt, version=1, practice=world.ctx.practice)
    sqs = world.stack.client("sqs")
    for n in range(5):  # at-least-once delivery: the same body, as SQS may hand it out again
        sqs.send_message(
            QueueUrl=world.settings.sync_queue_url,
            MessageBody=job.model_dump_json(by_alias=True),
            MessageGroupId=job.group_id,
            MessageDeduplicationId=f"{job.dedup_id}#redelivery{n}",
        )

    decisions = world.drain()

    assert [d.kind for d in decisions] == ["done"] * 5
    _one_appointment(world, appt)
    report = world.report()
    assert calls(report, "appointments.create") == 1
    assert_sim_clean(report)


def test_two_workers_on_the_same_appointment_book_once(world: World) -> None:
    patient = _patient_synced(world)
    appt = world.id("A")
    world.ctx.settings.save(
        world.ctx.settings.get().value.model_copy(update={"auto_sync_appointments": False}), 0
    )
    world.register(appt, patient, work_day(2, 10))
    job = SyncJob(kind="appointment", entityId=appt, version=1, practice=world.ctx.practice)
    # Two Lambda processes: own AMD clients, shared tables (token cache included).
    contexts = [world.new_services().context() for _ in range(2)]
    barrier = threading.Barrier(2)
    outcomes: list[object] = []

    def worker(n: int) -> None:
        barrier.wait()
        try:
            outcomes.append(JobProcessor(contexts[n]).process(job))
        except Exception as exc:  # surfaced below
            outcomes.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    world.drain()  # whatever a worker left for later (a retry) runs too

    assert len(outcomes) == 2 and not [o for o in outcomes if isinstance(o, Exception)], outcomes
    _one_appointment(world, appt)
    report = world.report()
    assert calls(report, "appointments.create") == 1
    assert_sim_clean(report)
