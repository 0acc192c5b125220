"""Monitoring (issue 18 item 8): the pull button's pull, blocked by the mass-change guard, sends
the scheduled pull's notice (from the worker that runs it), and the dashboard shows the stack's
alarms and their states."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from amdsync.store.alarms import AlarmState
from amdsync.sync.pull import PullRun
from amdsync.sync.worker import JobProcessor
from tests.unit.api.support import Api
from tests.unit.sync.helpers import synced


def _pull_button_run(api: Api) -> tuple[dict[str, Any], list[str]]:
    """Press the pull button and run its job as the worker does; returns the pull and the
    notices the worker sent."""
    notices: list[str] = []
    reply = api.call("POST", "/appointments/pull-updates", roles=["billing"])
    assert reply.status == 202
    message = api.world.queue.take()
    assert message is not None and message.kind == "pull"
    processor = JobProcessor(api.world.ctx, on_pull_blocked=lambda: notices.append("blocked"))
    assert processor.process(message).kind == "done"
    pull = api.call(
        "GET",
        "/appointments/pull-updates/{pullId}",
        roles=["billing"],
        path_params={"pullId": reply.json()["pullId"]},
    ).json()
    return pull, notices


def test_a_pull_button_blocked_by_the_mass_change_guard_notifies_the_operators() -> None:
    api = Api()
    world = api.world
    visits = [
        synced(world, f"A-{i}", start=f"2026-12-{1 + i // 8:02d}T{8 + i % 8:02d}:00:00")
        for i in range(10)
    ]
    assert PullRun(world.ctx).run().status == "ok"
    for visit in visits[:8]:
        world.amd.person_edits(visit, status_code=10)
    pull, notices = _pull_button_run(api)
    assert pull["summary"]["status"] == "blocked"
    assert notices == ["blocked"]
    assert world.metrics.total("MassChangeBlocked") == 1


def test_a_pull_that_passes_the_guard_notifies_nobody() -> None:
    api = Api()
    synced(api.world, "A-1")
    pull, notices = _pull_button_run(api)
    assert pull["summary"]["status"] == "ok" and notices == []


def test_the_dashboard_shows_each_alarms_state_in_words() -> None:
    api = Api()
    since = datetime(2026, 12, 5, 13, 0, tzinfo=UTC)
    api.services.alarms = [
        AlarmState("amdsync-pull-stale-dev", "ALARM", "No successful pull.", since),
        AlarmState("amdsync-queue-depth-dev", "OK", "More than 100 jobs.", since),
        AlarmState("amdsync-amd-429-dev", "INSUFFICIENT_DATA", "AMD answered 429.", None),
    ]
    body = api.call("GET", "/sync/dashboard").json()
    assert [(a["name"], a["state"], a["stateText"]) for a in body["alarms"]] == [
        ("amdsync-pull-stale-dev", "ALARM", "In alarm"),
        ("amdsync-queue-depth-dev", "OK", "OK"),
        ("amdsync-amd-429-dev", "INSUFFICIENT_DATA", "Not enough data"),
    ]
    assert body["alarms"][0]["description"] == "No successful pull."
    assert body["alarms"][0]["since"].startswith("2026-12-05T13:00:00")


def test_the_dashboard_still_answers_when_cloudwatch_cannot_be_read() -> None:
    api = Api()

    def refused() -> list[AlarmState]:
        raise ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, "DescribeAlarms")

    api.services.alarm_states = refused  # type: ignore[method-assign]
    reply = api.call("GET", "/sync/dashboard")
    assert reply.status == 200 and reply.json()["alarms"] is None
