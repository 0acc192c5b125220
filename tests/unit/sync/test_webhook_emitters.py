"""Webhook events are raised where outcomes are recorded (SPEC §9.4): real use cases over the
fake ports, with the context's feed, sync log and conflict store wrapped as composition does."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from amdsync.domain.feed import ChangeFeedEntry
from amdsync.domain.review import ConflictingField, ConflictRecord
from amdsync.domain.webhooks import DeliveryMessage, EventType, WebhookSubscription
from amdsync.sync.ports import ChangeFeed, ConflictStore, SyncLogs
from amdsync.sync.pull import PullRun
from amdsync.sync.webhook_emitters import (
    ConflictsWithWebhooks,
    FeedWithWebhooks,
    LogsWithWebhooks,
)
from amdsync.sync.webhooks import WebhookPublisher, WebhookQueue
from tests.fakes import World, build_world
from tests.fakes.webhooks import MemoryWebhookStore, RecordingWebhookQueue
from tests.unit.sync.helpers import APPT, PATIENT, push, register, register_patient, synced


class Wired:
    def __init__(
        self,
        events: tuple[EventType, ...] = tuple(EventType),
        enabled: bool = True,
        queue: WebhookQueue | None = None,
    ) -> None:
        self.world: World = build_world()
        self.store = MemoryWebhookStore()
        self.queue = RecordingWebhookQueue()
        self._queue = queue or self.queue
        now = self.world.clock.now()
        self.store.put(
            WebhookSubscription(webhook_id="wh-1", url="https://hooks.example.com/x",
                                events=events, enabled=enabled, created_at=now, updated_at=now),
            "whsec_c2VjcmV0",
        )  # fmt: skip
        ctx = self.world.ctx
        self.world.ctx = dataclasses.replace(
            ctx,
            feed=FeedWithWebhooks(ctx.feed, self._publisher()),
            logs=LogsWithWebhooks(ctx.logs, self._publisher()),
            conflicts=ConflictsWithWebhooks(ctx.conflicts, self._publisher()),
        )

    def _publisher(self) -> WebhookPublisher:
        return WebhookPublisher(self.store, self._queue, self.world.clock, self.world.metrics)

    def sent(self) -> list[tuple[str, DeliveryMessage]]:
        return list(self.queue.sent)

    def types(self) -> list[str]:
        return [m.event.type.value for _, m in self.queue.sent]


def test_a_sync_raises_patient_then_appointment_synced_grouped_per_entity() -> None:
    wired = Wired()
    register_patient(wired.world)
    register(wired.world)
    push(wired.world)

    assert wired.types() == ["patient.synced", "appointment.synced"]
    (patient_group, patient), (appointment_group, appointment) = wired.sent()
    assert (patient_group, appointment_group) == (f"patient:{PATIENT}", APPT)
    assert patient.event.data["patientId"] == PATIENT
    assert appointment.event.data["appointmentId"] == APPT
    assert appointment.webhook_id == "wh-1" and appointment.event.event_id.startswith("msg_")


def test_a_failed_sync_raises_sync_failed_with_the_code_and_no_phi() -> None:
    wired = Wired()
    register_patient(wired.world)
    wired.world.amd.person_books(start="2026-12-01T10:30:00", column_id="31")  # slot taken
    register(wired.world)
    push(wired.world)

    (_, failed) = wired.sent()[-1]
    assert failed.event.type is EventType.APPOINTMENT_SYNC_FAILED
    assert failed.event.data["errorCode"] == "AMD_OVERLAP"
    text = failed.model_dump_json()
    for phi in ("Ada", "Sample", "1980-04-02", "5555550100", "Main St"):
        assert phi not in text


def test_an_amd_side_change_raises_appointment_changed_with_the_changes_entry() -> None:
    wired = Wired(events=(EventType.APPOINTMENT_CHANGED,))
    visit = synced(wired.world)
    PullRun(wired.world.ctx).run()  # bootstrap: our own booking is not news
    wired.world.amd.person_edits(visit, status_code=1)
    PullRun(wired.world.ctx).run()

    ((group, message),) = wired.sent()
    (published,) = wired.world.feed.entries
    assert group == APPT
    assert message.event.type is EventType.APPOINTMENT_CHANGED
    assert message.event.data == {
        "cursor": published.cursor,
        "appointmentId": APPT,
        "advancedMDVisitId": visit,
        "kind": "status",
        "fields": {"status": "CHECKED_IN"},
        "at": published.model_dump(mode="json")["at"],
    }


def _conflict(state: str = "open") -> ConflictRecord:
    return ConflictRecord.model_validate(
        {
            "conflictId": APPT,
            "appointmentId": APPT,
            "advancedMDVisitId": "5001",
            "fields": {"start": ConflictingField(ehr="a", amd="b").model_dump()},
            "detectedAt": "2026-11-25T17:00:00Z",
            "state": state,
        }
    )


def test_conflict_opened_once_per_opening() -> None:
    wired = Wired(events=(EventType.CONFLICT_OPENED,))
    conflicts = wired.world.ctx.conflicts
    conflicts.put(_conflict())
    conflicts.put(_conflict())  # updated while open: not news
    conflicts.put(_conflict("resolved"))
    conflicts.put(_conflict())  # opened again

    assert wired.types() == ["conflict.opened", "conflict.opened"]
    data: dict[str, Any] = wired.sent()[0][1].event.data
    assert data == {"conflictId": APPT, "appointmentId": APPT, "advancedMDVisitId": "5001",
                    "fields": ["start"], "detectedAt": "2026-11-25T17:00:00+00:00"}  # fmt: skip


@pytest.mark.parametrize(
    "wired",
    [Wired(events=(EventType.PING,)), Wired(enabled=False)],
    ids=["not-subscribed", "disabled"],
)
def test_nothing_is_queued_for_subscriptions_that_do_not_want_it(wired: Wired) -> None:
    register_patient(wired.world)
    register(wired.world)
    push(wired.world)
    assert wired.sent() == []


class BrokenQueue:
    def send(self, messages: list[DeliveryMessage], group: str) -> None:
        raise ConnectionError("SQS is down")


def test_a_queue_failure_never_fails_the_sync_it_announces() -> None:
    wired = Wired(queue=BrokenQueue())
    register_patient(wired.world)
    register(wired.world)
    result = push(wired.world)

    assert result.visit_id is not None
    assert wired.world.appointments.record(APPT).amd_sync_status == "synced"
    assert wired.world.metrics.total("WebhookEnqueueFailed") == 2


ANNOUNCED = [
    (ChangeFeed, "feed", FeedWithWebhooks, ("append", "append_once")),
    (SyncLogs, "logs", LogsWithWebhooks, ("append",)),
    (ConflictStore, "conflicts", ConflictsWithWebhooks, ("put",)),
]


@pytest.mark.parametrize(("port", "name", "wrapper", "announced"), ANNOUNCED)
def test_a_wrapper_defines_its_announced_write_and_passes_every_other_call_through(
    port: type, name: str, wrapper: type, announced: tuple[str, ...]
) -> None:
    world = build_world()
    inner = getattr(world.ctx, name)
    queue = RecordingWebhookQueue()
    publisher = WebhookPublisher(MemoryWebhookStore(), queue, world.clock, world.metrics)
    wrapped = wrapper(inner, publisher)
    members = [m for m in vars(port) if not m.startswith("_")]
    assert set(announced) <= set(members)
    for member in members:
        if member in announced:
            assert getattr(wrapped, member).__func__ is getattr(wrapper, member)
        else:
            assert getattr(wrapped, member) == getattr(inner, member), member


def test_a_replayed_pull_piece_announces_only_what_it_published_now() -> None:
    wired = Wired(events=(EventType.APPOINTMENT_CHANGED,))
    visit = synced(wired.world)
    PullRun(wired.world.ctx).run()
    wired.world.amd.person_edits(visit, status_code=1)
    PullRun(wired.world.ctx).run()
    (published,) = wired.world.feed.entries
    entry = ChangeFeedEntry.model_validate(published.model_dump(exclude={"sequence"}))
    scope = list(wired.world.feed.published_once)[-1]  # the second pull's piece
    assert wired.world.ctx.feed.append_once(scope, {visit: [entry]}) == []  # the replay
    assert len(wired.sent()) == 1 and len(wired.world.feed.entries) == 1
