"""Concurrent workers on the simulator's frozen clock (discrete-event time for threads).

Each worker (a Lambda instance) is a thread; `sleep` parks it until the simulated clock reaches
its wake time. The clock moves only when every worker is parked (computing takes no simulated
time), straight to the earliest wake time. So a background worker sleeping for its pacing slot
does not hold up an interactive one, as in AWS, and both sides read the same instants.
"""

from __future__ import annotations

import heapq
import itertools
import threading
from collections.abc import Callable
from datetime import datetime

from local.amdsim.handle import SimHandle


class VirtualTime:
    """A `Clock` (now/sleep) shared by the workers started with `spawn`, driven by `run`."""

    def __init__(self, sim: SimHandle) -> None:
        self._clock = sim.sim.clock
        self._cond = threading.Condition()
        self._running = 0
        self._wakes: list[tuple[float, int, list[bool]]] = []
        self._serial = itertools.count()
        self.errors: list[BaseException] = []

    def now(self) -> datetime:
        result: datetime = self._clock.now()
        return result

    def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            return
        released = [False]
        with self._cond:
            wake = self.now().timestamp() + seconds
            heapq.heappush(self._wakes, (wake, next(self._serial), released))
            self._running -= 1
            self._cond.notify_all()
            while not released[0]:
                self._cond.wait()

    def spawn(self, work: Callable[[], None]) -> None:
        def body() -> None:
            try:
                work()
            except BaseException as exc:  # reported by `run`, never lost in a thread
                self.errors.append(exc)
            finally:
                with self._cond:
                    self._running -= 1
                    self._cond.notify_all()

        with self._cond:
            self._running += 1
        threading.Thread(target=body, daemon=True).start()

    def run(self) -> None:
        """Advance the clock whenever every worker is parked, until all have finished."""
        with self._cond:
            while True:
                while self._running > 0:
                    self._cond.wait()
                if not self._wakes:
                    break
                wake = self._wakes[0][0]
                ahead = wake - self.now().timestamp()
                if ahead > 0:
                    self._clock.advance(ahead)
                while self._wakes and self._wakes[0][0] <= wake:
                    _, _, released = heapq.heappop(self._wakes)
                    released[0] = True
                    self._running += 1
                self._cond.notify_all()
        if self.errors:
            raise self.errors[0]
