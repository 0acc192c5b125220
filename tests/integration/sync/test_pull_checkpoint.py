"""A pull cut off by its Lambda deadline mid-window resumes where it stopped (SPEC §9.3): the
next run reads AMD's change feed no more (the simulator counts GETUPDATEDVISITS), applies only
the pieces not yet stored (the change feed holds each change once), and only then moves the
watermark. DynamoDB over moto, AMD over HTTP to the simulator."""

from __future__ import annotations

from amdsync.sync.pull import PullOptions, PullRun
from tests.integration.sync.conftest import FEED_WAIT, World, work_day
from tests.lambda_support import DeadlineContext

VISITS = 7
CHUNK = 2  # 4 pieces


def _feed_calls(world: World) -> int:
    return int(world.report()["calls"]["by_action"].get("getupdatedvisits", 0))


def _booked(world: World) -> list[str]:
    patient = world.id("P")
    world.register_patient(patient)
    ids = [world.id(f"A-{i}") for i in range(VISITS)]
    for i, appointment in enumerate(ids):
        world.register(appointment, patient, work_day(2 + i // 4, 9 + i % 4))
    world.drain()
    return ids


def test_a_pull_cut_off_at_its_deadline_resumes_without_repeating(world: World) -> None:
    ids = _booked(world)
    assert world.pull().status == "ok"  # the bootstrap: a watermark to read the feed from
    mark = world.ctx.watermark.get().value
    for appointment in ids:
        visit = world.record(appointment).advanced_md_visit_id
        world.sim.admin.post_charges(int(visit or 0), charges=[{"proccode": "90834"}])
    before, feed_before = _feed_calls(world), len(world.feed())
    options = PullOptions(max_feed_wait=FEED_WAIT, chunk_size=CHUNK, deadline_margin=10.0)

    # 40 s left, 12 s spent per look at the clock: the lease, the fetch and piece 0 fit; piece 1
    # would start with 4 s left, inside the 10 s margin, so the run stops there.
    first = DeadlineContext(remaining_ms=40_000, step_ms=12_000)
    cut = PullRun(world.ctx, options).run(
        remaining=lambda: first.get_remaining_time_in_millis() / 1000
    )
    assert cut.status == "partial"
    assert _feed_calls(world) == before + 1
    assert world.ctx.watermark.get().value == mark  # not moved: the window is half stored
    checkpoint = world.ctx.pull_windows.checkpoint()
    assert checkpoint is not None and (checkpoint.next_chunk, checkpoint.chunks) == (1, 4)
    assert len(world.feed()) - feed_before == CHUNK

    roomy = DeadlineContext(remaining_ms=120_000)
    done = PullRun(world.ctx, options).run(
        remaining=lambda: roomy.get_remaining_time_in_millis() / 1000
    )
    assert done.status == "ok" and done.charges == VISITS  # the whole window's summary
    assert _feed_calls(world) == before + 1  # the stored window, not AMD's feed again
    entries = world.feed()[feed_before:]
    assert sorted(e.appointment_id for e in entries) == sorted(ids)  # each change once
    assert {e.kind for e in entries} == {"charges"}
    assert world.ctx.watermark.get().value != mark
    assert world.ctx.pull_windows.checkpoint() is None
