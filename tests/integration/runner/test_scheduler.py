"""Schedules from the template fire on an injected clock: pull every minute, the weekly report
only on Mondays at 07:00 America/Denver (across DST)."""

import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from local.runner.clock import ManualClock, ScaledClock
from local.runner.function_host import FunctionError
from local.runner.function_specs import ScheduleSpec
from local.runner.schedule_expressions import (
    CronExpression,
    ScheduleExpressionError,
    parse_expression,
)
from local.runner.scheduler import Scheduler
from local.runner.stack import LocalStack
from tests.integration.runner.conftest import quiet_config, running_stack

DENVER = ZoneInfo("America/Denver")


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    # The simulator runs so the real pull handler has an AdvancedMD to talk to.
    yield from running_stack(
        quiet_config(functions=("PullFunction", "WeeklyReportFunction"), start_simulator=True)
    )


class Recorder:
    def __init__(self, stack: LocalStack | None = None) -> None:
        self.calls: list[tuple[str, dict[str, Any], Any]] = []
        self._stack = stack

    def __call__(self, function: str, event: dict[str, Any]) -> Any:
        try:
            result = self._stack.invoke(function, event) if self._stack else None
        except FunctionError as exc:  # delivered; the product's answer is not under test here
            result = exc
        self.calls.append((function, event, result))
        return result

    def functions(self) -> list[str]:
        return [name for name, _, _ in self.calls]


def test_pull_fires_on_its_rate_through_the_real_handler(stack: LocalStack) -> None:
    clock = ManualClock(datetime(2026, 11, 25, 17, 0, 30, tzinfo=UTC))
    recorder = Recorder(stack)
    scheduler = Scheduler(
        [s for spec in stack.functions.values() for s in spec.schedules],
        clock,
        recorder,
        asynchronous=False,
    )
    clock.advance(59)
    assert scheduler.run_due() == []
    clock.advance(1)
    (firing,) = scheduler.run_due()
    assert firing.function == "PullFunction"
    function, event, result = recorder.calls[0]
    assert function == "PullFunction"
    assert event["source"] == "aws.scheduler"
    assert event["detail-type"] == "Scheduled Event"
    assert event["time"] == "2026-11-25T17:01:30Z"
    assert event["resources"] == [
        "arn:aws:scheduler:us-west-2:123456789012:schedule/default/amdsync-pull-dev"
    ]
    # The real pull handler ran in its host and answered (a result or its error payload).
    assert isinstance(result, dict | FunctionError)
    clock.advance(60)
    assert [f.function for f in scheduler.run_due()] == ["PullFunction"]
    assert scheduler.run_due() == []


def test_the_stack_scheduler_reads_both_schedules_from_the_template(stack: LocalStack) -> None:
    clock = ManualClock(datetime(2026, 11, 23, 13, 59, tzinfo=UTC))  # Mon 06:59 MST
    scheduler = stack.make_scheduler(clock, asynchronous=False)
    assert scheduler.next_times() == {
        "amdsync-pull-dev": datetime(2026, 11, 23, 14, 0, tzinfo=UTC),
        "amdsync-weekly-report-dev": datetime(2026, 11, 23, 14, 0, tzinfo=UTC),
    }


@pytest.mark.parametrize(
    "start",
    [
        datetime(2026, 11, 21, 0, 0, tzinfo=DENVER),  # a Saturday in winter (MST, UTC-7)
        datetime(2027, 3, 13, 0, 0, tzinfo=DENVER),  # across the spring-forward Sunday
    ],
)
def test_weekly_report_fires_only_monday_at_seven_denver(start: datetime) -> None:
    clock = ManualClock(start)
    recorder = Recorder()
    schedules = [
        ScheduleSpec("PullFunction", "pull", "rate(1 minute)", "America/Denver"),
        ScheduleSpec("WeeklyReportFunction", "weekly", "cron(0 7 ? * MON *)", "America/Denver"),
    ]
    scheduler = Scheduler(schedules, clock, recorder, asynchronous=False)
    for _ in range(3 * 24 * 60):  # three days, minute by minute
        clock.advance(60)
        scheduler.run_due()
    weekly = [f for f in scheduler.history if f.function == "WeeklyReportFunction"]
    assert len(weekly) == 1
    local = weekly[0].scheduled_time.astimezone(DENVER)
    assert (local.strftime("%A"), local.hour, local.minute) == ("Monday", 7, 0)
    pulls = [f for f in scheduler.history if f.function == "PullFunction"]
    assert len(pulls) == 3 * 24 * 60


def test_a_clock_jump_coalesces_missed_occurrences() -> None:
    clock = ManualClock(datetime(2026, 11, 25, 17, 0, tzinfo=UTC))
    spec = ScheduleSpec("PullFunction", "pull", "rate(1 minute)", "America/Denver")
    scheduler = Scheduler([spec], clock, Recorder(), asynchronous=False)
    clock.advance(3600)
    (firing,) = scheduler.run_due()
    assert firing.scheduled_time == datetime(2026, 11, 25, 18, 0, tzinfo=UTC)
    assert scheduler.next_times()["pull"] == datetime(2026, 11, 25, 18, 1, tzinfo=UTC)


def test_cron_next_times_in_denver() -> None:
    weekly = parse_expression("cron(0 7 ? * MON *)", "America/Denver")
    assert isinstance(weekly, CronExpression)
    after = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)  # exactly Monday 07:00 MST
    assert weekly.next_after(after) == datetime(2026, 11, 30, 14, 0, tzinfo=UTC)
    summer = weekly.next_after(datetime(2027, 3, 10, tzinfo=UTC))
    assert summer == datetime(2027, 3, 15, 13, 0, tzinfo=UTC)  # 07:00 MDT
    workdays = parse_expression("cron(*/15 6-17 ? * MON-FRI *)", "America/Denver")
    friday_evening = datetime(2026, 11, 27, 18, 0, tzinfo=DENVER)
    assert workdays.next_after(friday_evening) == datetime(2026, 11, 30, 6, 0, tzinfo=DENVER)
    # 02:30 does not exist on 2027-03-14 in Denver: that day is skipped.
    nightly = parse_expression("cron(30 2 * * ? *)", "America/Denver")
    start = datetime(2027, 3, 13, 12, 0, tzinfo=DENVER)
    assert nightly.next_after(start) == datetime(2027, 3, 15, 2, 30, tzinfo=DENVER)


@pytest.mark.parametrize(
    "expression",
    ["cron(0 7 * * MON *)", "cron(0 7 ? * 2#1 *)", "cron(0 7 L * ? *)", "rate(0 minutes)", "at(x)"],
)
def test_unsupported_or_invalid_expressions_raise(expression: str) -> None:
    with pytest.raises(ScheduleExpressionError):
        parse_expression(expression, "America/Denver")


def test_scaled_clock_runs_fast() -> None:
    clock = ScaledClock(600, start=datetime(2026, 11, 25, tzinfo=UTC))
    later = clock.now() + timedelta(minutes=1)
    assert 0 < clock.real_seconds_until(later) <= 0.1


def test_started_scheduler_invokes_asynchronously_and_skips_while_busy() -> None:
    clock = ManualClock(datetime(2026, 11, 25, 17, 0, tzinfo=UTC))
    release = threading.Event()
    calls: list[str] = []

    def slow(function: str, event: dict[str, Any]) -> None:
        calls.append(event["time"])
        release.wait(5)

    spec = ScheduleSpec("PullFunction", "pull", "rate(1 minute)", "America/Denver")
    scheduler = Scheduler([spec], clock, slow).start()
    try:
        clock.advance(60)
        wait_for(lambda: len(calls) == 1)
        clock.advance(60)  # due while the first run is still going: skipped
        wait_for(lambda: scheduler.next_times()["pull"].minute == 3)
        assert calls == ["2026-11-25T17:01:00Z"]
        release.set()
        time.sleep(0.1)
        clock.advance(60)
        wait_for(lambda: len(calls) == 2)
        assert calls[-1] == "2026-11-25T17:03:00Z"
    finally:
        release.set()
        scheduler.stop()


def wait_for(condition: Callable[[], bool], seconds: float = 5) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)
