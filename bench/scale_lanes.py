"""Interactive sync latency behind a background backlog, two lanes on the simulated clock.

Two products share the simulator's frozen clock and the DynamoDB pacing item, as the
SyncWorkerFunction (interactive queue) and the BackgroundWorkerFunction (BackgroundQueue) share
them in AWS, each with the production worker's rate settings (`max_rate_wait` 0: pacing waits
up to the gate's pace wait are slept, interactive ones claiming their slot; longer ones defer).
Workers are threads on `VirtualTime` (bench/virtual_time.py):

* interactive: one appointment registered every `gap` seconds (auto-sync on), each processed by
  its own worker at once (its own Lambda); a deferral is redelivered after its delay, as SQS's
  visibility timeout would.
* background: `workers` workers (the BackgroundQueue's MaximumConcurrency) take the backlog's
  appointment jobs (lane `background`) one by one, a deferred job retried after its delay.

Latency = simulated time from the registration to the job's `done` (AMD answers in no
simulated time; our compute, measured apart, and SQS's hand-off add to it in AWS).
"""

from __future__ import annotations

import dataclasses
import statistics
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from amdsync.jobs import SyncJob
from amdsync.sync.intake import Intake
from amdsync.sync.worker import JobProcessor
from bench.virtual_time import VirtualTime
from tests.reliability.world import MemoryQueue, Product, Slots, desired


@dataclass
class Lanes:
    interactive: Product
    background: Product
    backlog: list[SyncJob]
    patients: list[str]
    slots: Slots
    time: VirtualTime
    compute: dict[str, list[float]] = field(default_factory=lambda: {"done": [], "defer": []})
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def register_backlog(self, count: int) -> None:
        """`count` appointments registered with auto-sync on, their jobs moved to the
        background lane (as bulk planning queues them)."""
        for index in range(count):
            provider, start = self.slots.take()
            patient = self.patients[index % len(self.patients)]
            body = desired(patient, provider, start, 1)
            Intake(self.background.ctx).register_appointment(f"BG-{index:05d}", body)
        jobs = self.background.queue.take(self.background.queue.depth())
        self.backlog.extend(j.model_copy(update={"lane": "background"}) for j in jobs)

    def _timed(self, product: Product, job: SyncJob) -> float | None:
        """Process once: None when done, else the delay before SQS delivers it again."""
        started = time.perf_counter()
        decision = JobProcessor(product.ctx).process(job)
        kind = "done" if decision.kind == "done" else "defer"
        with self._lock:
            self.compute[kind].append(time.perf_counter() - started)
        if kind == "done":
            return None
        assert decision.kind in ("defer", "retry"), decision
        return decision.delay

    def measure(self, samples: int, gap: float, workers: int) -> dict[str, Any]:
        clock = self.time
        t0 = clock.now().timestamp()
        depth_before = len(self.backlog)
        latencies: list[float] = []
        state = {"left": samples, "background_done": 0, "end": t0}

        def interactive(index: int) -> None:
            clock.sleep(gap * index)
            arrived = clock.now().timestamp()
            job = self._arrive(index)
            while (delay := self._timed(self.interactive, job)) is not None:
                clock.sleep(delay)
            with self._lock:
                latencies.append(clock.now().timestamp() - arrived)
                state["left"] -= 1
                state["end"] = max(state["end"], clock.now().timestamp())

        def background() -> None:
            while state["left"] > 0:
                with self._lock:
                    if not self.backlog:
                        return
                    job = self.backlog.pop(0)
                while (delay := self._timed(self.background, job)) is not None:
                    clock.sleep(delay)
                    if state["left"] == 0:
                        with self._lock:
                            self.backlog.insert(0, job)  # still queued when we stop looking
                        return
                with self._lock:
                    state["background_done"] += 1

        for index in range(samples):
            clock.spawn(lambda index=index: interactive(index))
        for _ in range(workers):
            clock.spawn(background)
        clock.run()
        ordered = sorted(latencies)
        return {
            "samples": samples,
            "arrival_gap_s": gap,
            "background_workers": workers,
            "backlog_at_start": depth_before,
            "backlog_at_end": len(self.backlog),
            "background_synced_meanwhile": state["background_done"],
            "simulated_minutes": round((state["end"] - t0) / 60, 1),
            "latency_p50_s": round(statistics.median(ordered), 2),
            "latency_p95_s": round(ordered[max(0, round(0.95 * samples) - 1)], 2),
            "latency_max_s": round(ordered[-1], 2),
        }

    def _arrive(self, index: int) -> SyncJob:
        """The EHR's PUT: registered with auto-sync on, its interactive job returned."""
        with self._lock:
            provider, start = self.slots.take()
        patient = self.patients[index % len(self.patients)]
        name = f"IN-{self.time.now():%H%M%S}-{index:03d}"
        queue = MemoryQueue()
        Intake(dataclasses.replace(self.interactive.ctx, queue=queue)).register_appointment(
            name, desired(patient, provider, start, 1)
        )
        jobs = queue.take(10)
        assert len(jobs) == 1 and jobs[0].lane == "interactive", jobs
        return jobs[0]


def compute_ms(compute: dict[str, list[float]]) -> dict[str, Any]:
    done, defer = compute["done"], compute["defer"]
    return {
        "sync_compute_ms_mean": round(statistics.mean(done) * 1000, 1) if done else None,
        "syncs": len(done),
        "deferral_compute_ms_mean": round(statistics.mean(defer) * 1000, 1) if defer else None,
        "deferrals": len(defer),
    }
