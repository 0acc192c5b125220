"""EventBridge Scheduler, locally: fire the template's ScheduleV2 events on an injectable clock.

`run_due()` fires every schedule whose next time has come (tests call it after ticking a
ManualClock); `start()` runs it on a thread that sleeps until the next time. Invocations are
asynchronous, as Scheduler's Lambda target is: a slow pull does not delay the weekly report.
When the clock jumps past several occurrences of one schedule (a laptop waking from sleep, a test
advancing a day), they are coalesced into one invocation for the latest; and while a schedule's
previous invocation still runs, a new occurrence is skipped rather than queued (AWS would run
them concurrently; locally a fast clock would otherwise build an unbounded backlog).

The event is what Scheduler sends when a schedule has no Input (events/pull/schedule.json);
a schedule's own Input is sent verbatim instead.
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from local.runner.clock import Clock
from local.runner.function_host import FunctionError
from local.runner.function_specs import ScheduleSpec
from local.runner.schedule_expressions import ScheduleExpression, parse_expression

LOG = logging.getLogger("local.runner.scheduler")

Invoker = Callable[[str, dict[str, Any]], Any]  # (function logical id, event) -> result
_MAX_SLEEP_SECONDS = 1.0


@dataclass
class _Entry:
    spec: ScheduleSpec
    expression: ScheduleExpression
    next_time: datetime
    anchor: datetime


@dataclass(frozen=True)
class Firing:
    schedule: str
    function: str
    scheduled_time: datetime
    event: dict[str, Any] = field(compare=False)


def scheduled_event(
    spec: ScheduleSpec, scheduled_time: datetime, region: str, account_id: str
) -> dict[str, Any]:
    if spec.input is not None:
        loaded: dict[str, Any] = json.loads(spec.input)
        return loaded
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.scheduler",
        "account": account_id,
        "time": scheduled_time.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [f"arn:aws:scheduler:{region}:{account_id}:schedule/default/{spec.name}"],
        "detail": {},
    }


class Scheduler:
    def __init__(
        self,
        schedules: Iterable[ScheduleSpec],
        clock: Clock,
        invoke: Invoker,
        *,
        region: str = "us-west-2",
        account_id: str = "123456789012",
        asynchronous: bool = True,
    ) -> None:
        self._clock = clock
        self._invoke = invoke
        self._region = region
        self._account_id = account_id
        start = clock.now()
        self._entries = []
        for spec in schedules:
            if not spec.enabled:
                continue
            expression = parse_expression(spec.expression, spec.timezone)
            first = expression.next_after(start, start)
            self._entries.append(_Entry(spec, expression, first, start))
        self._executor = ThreadPoolExecutor(4, "schedule") if asynchronous else None
        self._running: dict[str, Future[None]] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.history: list[Firing] = []

    def next_times(self) -> dict[str, datetime]:
        return {entry.spec.name: entry.next_time for entry in self._entries}

    def run_due(self) -> list[Firing]:
        """Fire every schedule that is due at the clock's current time."""
        now = self._clock.now()
        fired = []
        for entry in self._entries:
            if entry.next_time > now:
                continue
            latest = entry.next_time
            while (following := entry.expression.next_after(latest, entry.anchor)) <= now:
                latest = following
            entry.next_time = entry.expression.next_after(latest, entry.anchor)
            event = scheduled_event(entry.spec, latest, self._region, self._account_id)
            firing = Firing(entry.spec.name, entry.spec.function, latest, event)
            fired.append(firing)
            self.history.append(firing)
            self._dispatch(firing)
        return fired

    def _dispatch(self, firing: Firing) -> None:
        if self._executor is None:
            self._deliver(firing)
            return
        previous = self._running.get(firing.schedule)
        if previous is not None and not previous.done():
            LOG.info("schedule %s: previous run still going, skipped", firing.schedule)
            return
        self._running[firing.schedule] = self._executor.submit(self._deliver, firing)

    def _deliver(self, firing: Firing) -> None:
        try:
            self._invoke(firing.function, firing.event)
        except FunctionError as exc:
            LOG.warning(
                "schedule %s: %s failed: %s", firing.schedule, firing.function, exc.error_type
            )

    def start(self) -> Scheduler:
        self._thread = threading.Thread(target=self._run, name="scheduler", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            self.run_due()
            if not self._entries:
                self._stop.wait(_MAX_SLEEP_SECONDS)
                continue
            soonest = min(entry.next_time for entry in self._entries)
            wait = min(_MAX_SLEEP_SECONDS, self._clock.real_seconds_until(soonest))
            self._stop.wait(wait)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
        if self._executor is not None:
            # Running invocations end when the function pools stop; queued ones are dropped.
            self._executor.shutdown(wait=False, cancel_futures=True)
