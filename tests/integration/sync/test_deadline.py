"""A job that cannot finish in time is deferred, never cut off mid-write (issue 15 item 5):
with too little of the invocation left for an AMD write's worst case, the worker defers the job
before sending anything; in the next invocation it completes once."""

from __future__ import annotations

from amdsync.amd.budget import derive_budget
from amdsync.jobs import SyncJob
from amdsync.sync.worker import JobProcessor
from tests.integration.sync.conftest import World, work_day
from tests.integration.sync.invariants import assert_sim_clean, calls


def test_a_write_that_would_not_fit_is_deferred_and_done_next_time(world: World) -> None:
    patient, appt = world.id("P"), world.id("A")
    world.register_patient(patient)
    world.register(appt, patient, work_day(2, 10))
    needs = derive_budget(world.settings.function_timeout_seconds).worst_call_seconds
    assert world.settings.function_timeout_seconds == 60  # from template.yaml
    world.services.deadline.start(lambda: needs - 1)

    decisions = [JobProcessor(world.ctx).process(job) for job in _queued(world)]

    assert decisions and {d.kind for d in decisions} == {"defer"}
    report = world.report()
    assert calls(report, "addpatient") == 0 and calls(report, "appointments.create") == 0
    assert world.record(appt).amd_sync_status == "pending"
    assert world.record(appt).attempts == 0

    world.services.deadline.start(lambda: needs + 1)  # a fresh invocation
    world.next_rate_window()
    world.drain()
    assert world.record(appt).amd_sync_status == "synced"
    report = world.report()
    assert calls(report, "addpatient") == 1 and calls(report, "appointments.create") == 1
    assert_sim_clean(report)


def _queued(world: World) -> list[SyncJob]:
    """The jobs waiting, left on the queue (visible again at once) for the next drain."""
    sqs = world.stack.client("sqs")
    reply = sqs.receive_message(
        QueueUrl=world.settings.sync_queue_url, MaxNumberOfMessages=10, VisibilityTimeout=0
    )
    return [SyncJob.model_validate_json(m["Body"]) for m in reply.get("Messages", [])]
