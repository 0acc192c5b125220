"""A seeded, reproducible fault campaign against the product and the AMD simulator.

A schedule is a sequence of operations drawn from one `random.Random(seed)`: EHR-side creates,
edits and status changes (through `Intake`, as the API does), AMD-side edits (through the
simulator's person-edit admin API), worker batches, pulls, clock jumps, and faults: AMD answers
500, times out, commits then drops the connection, says 429, expires the token; the worker
process dies mid-batch (before or after an AMD call commits), a message is delivered again, a
pull dies half-way. Afterwards the faults stop, the queue drains, pulls run until quiet, and
`invariants.check` judges the end state.

A crash is a `WorkerCrash` (a BaseException, so no `except Exception` in the product can
swallow it), raised by a port proxy after the wrapped call returned: an AMD call that committed,
or a DynamoDB write that landed, whose process then died. The job is delivered again, as SQS
would after the visibility timeout.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from amdsync.amd.errors import AmdError
from amdsync.domain.errors import IllegalTransitionError
from amdsync.domain.settings import Settings
from amdsync.jobs import SyncJob
from amdsync.sync.context import SyncContext
from amdsync.sync.intake import Intake
from amdsync.sync.pull import PullOptions, PullRun
from amdsync.sync.worker import JobProcessor
from local.amdsim.handle import SimHandle
from tests.reliability.world import (
    Product,
    Slots,
    change,
    demographics,
    desired,
    work_days,
)

# Distinctive, obviously fake PHI: the audit looks for exactly these strings.
PATIENT_FIRST = "QUIXOTELLA"
PATIENT_LAST = "VANTREMBLAY"
PATIENT_DOB = "1937-11-23"

# Pulls run as the scheduled pull function does: waiting for the change feed's own spacing
# (once per 62 s) inside the run (PULL_MAX_RATE_WAIT) rather than answering "too soon".
SCHEDULED_PULL = PullOptions(max_feed_wait=50.0)

SIM_FAULTS = ("http500", "timeout", "drop", "429", "expired", "lapse")
FAULT_ACTIONS = (None, "appointments.create", "appointments.get", "getupdatedvisits", None)


class WorkerCrash(BaseException):
    """The worker process died."""


@dataclass
class CrashPlan:
    """Counts calls through the proxies; raises after the `at`-th one while armed."""

    at: int = 0
    seen: int = 0
    only: str | None = None  # count only calls of this port method, e.g. "amd.book"
    fired: Counter[str] = field(default_factory=Counter)

    def arm(self, at: int, only: str | None = None) -> None:
        self.at, self.seen, self.only = at, 0, only

    def disarm(self) -> None:
        self.at = 0

    def after_call(self, where: str) -> None:
        if not self.at or (self.only is not None and where != self.only):
            return
        self.seen += 1
        if self.seen >= self.at:
            self.at = 0
            self.fired[where] += 1
            raise WorkerCrash(where)


class CrashingProxy:
    """Forwards every method; the plan may kill the process right after a call returned."""

    def __init__(self, inner: Any, plan: CrashPlan, name: str) -> None:
        self._inner = inner
        self._plan = plan
        self._name = name

    def __getattr__(self, attribute: str) -> Any:
        value = getattr(self._inner, attribute)
        if not callable(value):
            return value

        def call(*args: Any, **kwargs: Any) -> Any:
            result = value(*args, **kwargs)
            self._plan.after_call(f"{self._name}.{attribute}")
            return result

        return call


@dataclass(frozen=True)
class Profile:
    seed: int
    operations: int


@dataclass
class AmdEdit:
    """An AMD-side change the EHR must learn about (feed entry) or see as a conflict."""

    appointment_id: str
    visit_id: str
    field: str  # EHR field name in feed entries
    value: Any
    feed_head: int  # feed position when the edit was made
    ehr_value: Any  # the EHR's desired value at that moment
    at_op: int = 0


@dataclass
class Appt:
    appointment_id: str
    patient_id: str
    provider: str
    start: str
    status: str = "SCHEDULED"
    version: int = 1


@dataclass
class CampaignResult:
    seed: int
    operations: Counter[str] = field(default_factory=Counter)
    faults: Counter[str] = field(default_factory=Counter)
    crashes: Counter[str] = field(default_factory=Counter)
    decisions: Counter[str] = field(default_factory=Counter)
    handler_errors: list[str] = field(default_factory=list)
    pull_failures: Counter[str] = field(default_factory=Counter)
    # (appointment id, field, value, operation index) of every change the EHR asked for
    ehr_requests: list[tuple[str, str, Any, int]] = field(default_factory=list)
    dead_lettered: list[str] = field(default_factory=list)
    amd_edits: list[AmdEdit] = field(default_factory=list)
    appointments: int = 0
    simulated_seconds: float = 0.0
    wall_seconds: float = 0.0
    violations: list[str] = field(default_factory=list)
    report: dict[str, Any] = field(default_factory=dict)

    @property
    def total_operations(self) -> int:
        return sum(self.operations.values())


STATUS_NEXT = {
    "SCHEDULED": ("CONFIRMED", "CHECKED_IN", "CANCELLED", "NO_SHOW"),
    "CONFIRMED": ("CHECKED_IN", "CANCELLED", "NO_SHOW"),
    "CHECKED_IN": ("COMPLETED",),
}
# AMD-side status edits a front desk makes (ApptStatus codes, PROTOCOL §4.1).
AMD_STATUS_NEXT = {0: (1, 10, 12), 1: (3,)}
AMD_STATUS_NAME = {1: "CHECKED_IN", 3: "COMPLETED", 10: "CANCELLED", 12: "NO_SHOW"}


class Campaign:
    def __init__(self, product: Product, sim: SimHandle, profile: Profile) -> None:
        self.product = product
        self.sim = sim
        self.rng = random.Random(profile.seed)
        self.profile = profile
        self.plan = CrashPlan()
        base = product.ctx
        self.ctx: SyncContext = product.with_ports(
            scheduler=CrashingProxy(base.scheduler, self.plan, "amd"),
            amd_patients=CrashingProxy(base.amd_patients, self.plan, "amd"),
            appointments=CrashingProxy(base.appointments, self.plan, "appointments"),
            feed=CrashingProxy(base.feed, self.plan, "feed"),
        )
        today = product.clock.now().astimezone(base.timezone).date()
        self.slots = Slots(work_days(today + timedelta(days=1), 15))
        self.appts: dict[str, Appt] = {}
        self.patients = [f"P-{i:03d}" for i in range(12)]
        self.result = CampaignResult(profile.seed)
        self.recent: list[SyncJob] = []
        self._next_id = 0
        self.op_index = 0

    # ------------------------------------------------------------------ schedule

    def run(self) -> CampaignResult:
        started = time.monotonic()
        clock_start = self.product.clock.now()
        self._setup()
        weighted = [
            (self.create, 16),
            (self.ehr_edit, 8),
            (self.ehr_status, 14),
            (self.amd_edit, 10),
            (self.work, 24),
            (self.pull, 5),
            (self.sim_fault, 10),
            (self.crash_next, 5),
            (self.redeliver, 4),
            (self.pull_crash, 2),
            (self.advance, 2),
        ]
        ops = [op for op, _ in weighted]
        weights = [w for _, w in weighted]
        for index in range(self.profile.operations):
            self.op_index = index
            op = self.rng.choices(ops, weights)[0]
            self.result.operations[op.__name__] += 1
            op()
        self.quiesce()
        self.result.appointments = len(self.appts)
        self.result.simulated_seconds = (self.product.clock.now() - clock_start).total_seconds()
        self.result.wall_seconds = time.monotonic() - started
        self.result.crashes = self.plan.fired
        self.result.report = self.sim.admin.report()
        return self.result

    def _setup(self) -> None:
        settings = self.ctx.settings.get()
        # Guard off for the campaign: AMD-side cancels are random here, not a mass change.
        relaxed = Settings.model_validate(
            {**settings.value.model_dump(by_alias=True), "massChangeGuardRatio": 1.0}
        )
        self.ctx.settings.save(relaxed, settings.version)
        for index, patient_id in enumerate(self.patients):
            dob = date.fromisoformat(PATIENT_DOB) + timedelta(days=index)
            body = demographics(f"{PATIENT_FIRST}{chr(65 + index)}", PATIENT_LAST, dob.isoformat())
            Intake(self.ctx).register_patient(patient_id, body)

    # ------------------------------------------------------------------ EHR side

    def create(self) -> None:
        self._next_id += 1
        appointment_id = f"A-{self.profile.seed}-{self._next_id:05d}"
        provider, start = self.slots.take()
        patient = self.rng.choice(self.patients)
        status = "SCHEDULED" if self.rng.random() < 0.9 else "CONFIRMED"
        Intake(self.ctx).register_appointment(
            appointment_id, desired(patient, provider, start, 1, status)
        )
        self.appts[appointment_id] = Appt(appointment_id, patient, provider, start, status)

    def _pick(self) -> Appt | None:
        if not self.appts:
            return None
        return self.appts[self.rng.choice(sorted(self.appts))]

    def ehr_edit(self) -> None:
        appt = self._pick()
        if appt is None:
            return
        stored = self.ctx.appointments.get(appt.appointment_id)
        if stored is None:
            return
        record = stored.value
        same_provider = self.rng.random() < 0.7
        provider, start = self.slots.take(record.provider_id if same_provider else None)
        body = desired(
            record.patient_id,
            provider,
            start,
            record.ehr_version + 1,
            status=record.status,
            duration=record.duration_minutes,
        )
        body = body.model_copy(update={"cancel_reason": record.cancel_reason})
        self._asked(appt.appointment_id, start=start, providerId=provider)
        try:
            Intake(self.ctx).register_appointment(appt.appointment_id, body)
        except IllegalTransitionError:
            self.result.operations["rejected_409"] += 1

    def ehr_status(self) -> None:
        appt = self._pick()
        if appt is None:
            return
        stored = self.ctx.appointments.get(appt.appointment_id)
        if stored is None:
            return
        options = STATUS_NEXT.get(str(stored.value.status))
        if not options:
            return
        target = self.rng.choice(options)
        reason = "PATIENT_REQUEST" if target == "CANCELLED" else None
        self._asked(appt.appointment_id, status=target)
        try:
            Intake(self.ctx).change_status(appt.appointment_id, change(target, reason))
        except IllegalTransitionError:
            self.result.operations["rejected_409"] += 1

    def _asked(self, appointment_id: str, **values: Any) -> None:
        for name, value in values.items():
            self.result.ehr_requests.append((appointment_id, name, value, self.op_index))

    # ------------------------------------------------------------------ AMD side

    def amd_edit(self) -> None:
        linked = [
            a
            for a in self.appts.values()
            if (s := self.product.ctx.appointments.get(a.appointment_id)) is not None
            and s.value.advanced_md_visit_id
        ]
        if not linked:
            return
        appt = self.rng.choice(linked)
        stored = self.product.ctx.appointments.get(appt.appointment_id)
        assert stored is not None
        record = stored.value
        visit_id = str(record.advanced_md_visit_id)
        visit = self.sim.admin.appointment(int(visit_id))
        code = int(visit["status"])
        head = self.product.ctx.feed.head()
        if self.rng.random() < 0.5 and code in AMD_STATUS_NEXT:
            new_code = self.rng.choice(AMD_STATUS_NEXT[code])
            self.sim.admin.edit_appointment(int(visit_id), status=new_code)
            edit = AmdEdit(
                appt.appointment_id,
                visit_id,
                "status",
                AMD_STATUS_NAME[new_code],
                head,
                str(record.status),
            )
        elif code < 10 and self.rng.random() < 0.6:
            _, start = self.slots.take(record.provider_id)
            self.sim.admin.edit_appointment(int(visit_id), start=start)
            edit = AmdEdit(appt.appointment_id, visit_id, "start", start, head, record.start)
        elif code < 10:
            duration = self.rng.choice((45, 55, 60))
            self.sim.admin.edit_appointment(int(visit_id), duration=duration)
            edit = AmdEdit(
                appt.appointment_id,
                visit_id,
                "durationMinutes",
                duration,
                head,
                record.duration_minutes,
            )
        else:
            return
        edit.at_op = self.op_index
        self.result.amd_edits.append(edit)

    # ------------------------------------------------------------------ worker and pull

    def work(self, batch: int | None = None) -> None:
        """One worker invocation over a batch of up to 10 jobs (SQS FIFO batch)."""
        jobs = self.product.queue.take(batch or self.rng.randint(1, 10))
        for index, job in enumerate(jobs):
            try:
                decision = JobProcessor(self.ctx).process(job)
            except WorkerCrash:
                # The process died: this job and the rest of the batch come back.
                self.product.queue.enqueue(jobs[index:])
                return
            except Exception as exc:  # the Lambda invocation fails: SQS redelivers
                self.result.handler_errors.append(f"{job.entity_id}: {exc!r}"[:300])
                self.product.queue.enqueue([job])
                continue
            self.result.decisions[decision.kind] += 1
            self.recent = [*self.recent[-20:], job]
            if decision.kind in ("defer", "retry"):
                # SQS brings it back after the visibility timeout: simulated time passes.
                self.product.clock.sleep(min(decision.delay, 900.0))
                self.product.queue.enqueue([job])
            elif decision.kind == "dead_letter":
                self.result.dead_lettered.append(job.entity_id)

    def pull(self) -> None:
        try:
            PullRun(self.ctx, SCHEDULED_PULL).run()
        except WorkerCrash:
            pass
        except AmdError as exc:
            # The pull function fails; the next schedule repeats the window (the watermark
            # did not move), so nothing is skipped.
            self.result.pull_failures[type(exc).__name__] += 1
        except Exception as exc:
            self.result.handler_errors.append(f"pull: {exc!r}"[:300])

    # ------------------------------------------------------------------ faults

    def sim_fault(self) -> None:
        kind = self.rng.choice(SIM_FAULTS)
        spec: dict[str, Any] = {"kind": kind, "count": self.rng.randint(1, 2)}
        action = self.rng.choice(FAULT_ACTIONS)
        if action:
            spec["action"] = action
        if kind == "timeout":
            spec["delay_ms"] = 20
        self.sim.sim.faults.add(spec)
        self.result.faults[kind] += 1

    def crash_next(self) -> None:
        """The next worker batch dies after its k-th port call (AMD or DynamoDB)."""
        self.plan.arm(self.rng.randint(1, 12))
        self.result.faults["worker_crash"] += 1
        self.work()
        self.plan.disarm()

    def redeliver(self) -> None:
        if self.recent:
            self.product.queue.enqueue([self.rng.choice(self.recent)])
            self.result.faults["redelivery"] += 1

    def pull_crash(self) -> None:
        self.plan.arm(self.rng.randint(1, 8))
        self.result.faults["pull_crash"] += 1
        self.pull()
        self.plan.disarm()

    def advance(self) -> None:
        self.product.clock.sleep(self.rng.choice((5, 30, 61, 300, 1800)))

    # ------------------------------------------------------------------ the end

    def quiesce(self, rounds: int = 8) -> None:
        """Faults off; drain; pull until nothing changes (a pull may queue pushes)."""
        self.plan.disarm()
        self.sim.sim.faults.clear()
        for _ in range(rounds):
            guard = 0
            while self.product.queue.depth():
                guard += 1
                assert guard < 10_000, "queue never drains"
                self.work(10)
            self.product.clock.sleep(61)
            head = self.product.ctx.feed.head()
            summary = PullRun(self.ctx, SCHEDULED_PULL).run()
            if (
                not self.product.queue.depth()
                and self.product.ctx.feed.head() == head
                and summary.updated == 0
                and summary.status == "ok"
            ):
                return
