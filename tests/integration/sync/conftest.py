"""The sync use cases for real: DynamoDB adapters over moto (tables and queues created from
template.yaml by the local runner's code), the AdvancedMD client over HTTP to the simulator.

One moto stack serves the package (starting one costs ~1.5 s); every test starts from wiped
tables, a purged queue, a re-seeded simulator on the real clock, and mappings confirmed from the
simulator's own lookups. Every test also runs under a PHI/secret scan of the logs, the DynamoDB
items and the metrics it produced (see `phi.py`).

Rate limits: the product runs on the real clock, so its limiter judges peak/off-peak from the
real time of day, and PROTOCOL §6's peak limits (Tier 1 and the change feed at 1/min, one login a
minute) would make any test with two pulls or a re-login wait a minute. So both sides get the same
widened table (`TEST_LIMITS`, through `Services.limits`), and the simulator keeps enforcing it:
a 429 the tests did not inject still means the product exceeded its own limiter. The table is
ten times AMD's off-peak tiers: the limiter spaces calls evenly over the minute, and at AMD's own
values a pull or a lookup round slept seconds in every test (how the product paces at AMD's real
limits is tests/integration/amd's subject: test_pacing_strict_sim.py and friends).

The mappings' AMD ids come from the simulator's lookups through the product, once per stack:
every test re-seeds the simulator with the same seed, so the ids are the same each time.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from amdsync.amd.lanes import BACKGROUND, INTERACTIVE, Lane
from amdsync.amd.tiers import DEFAULT_LIMITS, Budget, Limit, LimitTable
from amdsync.compose import Services
from amdsync.config import WorkerSettings, load_settings
from amdsync.domain.appointments import DesiredAppointment, StatusChange
from amdsync.domain.mappings import Mapping, MappingKind
from amdsync.domain.patients import PatientDemographics
from amdsync.jobs import SyncJob
from amdsync.sync.context import SyncContext
from amdsync.sync.intake import Accepted, Intake
from amdsync.sync.metrics import RecordingMetrics
from amdsync.sync.pull import PullOptions, PullRun, PullSummary
from amdsync.sync.queue_worker import RecordRef, RetryRecord, handle_record
from amdsync.sync.worker import JobDecision, JobProcessor
from local.amdsim.handle import SimHandle
from local.runner.lambda_environment import lambda_environment
from local.runner.stack import LocalStack
from tests.integration.sync import phi
from tests.stacks import resources_only

ZONE = ZoneInfo("America/Denver")
SIM_SEED = {"seed": 7, "patients": 30, "appointments": 0}

# Ten times AMD's off-peak tiers at every hour, the two 1-per-minute caps (change feed, login)
# widened; the simulator enforces the same numbers.
TIER_SCALE = 10
WIDE = 600
TIERS = {"1": Budget.TIER1, "2": Budget.TIER2, "3": Budget.TIER3}  # the simulator's names
TIER_LIMITS = {b: DEFAULT_LIMITS[b].off_peak * TIER_SCALE for b in TIERS.values()}
TEST_LIMITS = LimitTable(
    limits={
        **{b: Limit(peak=n, off_peak=n) for b, n in TIER_LIMITS.items()},
        Budget.FEED: Limit(peak=WIDE, off_peak=WIDE),
        Budget.LOGIN: Limit(peak=WIDE, off_peak=WIDE),
    },
    is_peak=lambda _instant: False,
)  # fmt: skip
_SIM_TIERS = {name: TIER_LIMITS[budget] for name, budget in TIERS.items()}
SIM_LIMITS = {
    "peak_limits": _SIM_TIERS,
    "offpeak_limits": _SIM_TIERS,
    "updated_cap_per_minute": WIDE,
}
# A pull may wait this long for the change feed's own spacing (TEST_LIMITS: 62 s / WIDE).
FEED_WAIT = 5.0
# The bulk test: 500 creates in seconds, far above any AMD tier.
UNLIMITED = LimitTable(
    limits={b: Limit(peak=100_000, off_peak=100_000) for b in Budget},
    is_peak=lambda _instant: False,
)

# EHR ids -> simulator lookups. Provider i is profile 101+i with column 201+i; columns 202-204
# are open Mon-Fri 08:00-17:00 with one appointment per slot (local/amdsim/seed.py).
PROVIDERS = {"DR-1": 1, "DR-2": 2, "DR-3": 3}
BULK_PROVIDERS = {f"BK-{i}": i for i in (5, 6, 7, 10, 11, 13, 14, 15)}  # 08:00-17:00, 1 per slot
FACILITY = ("MAIN", "TCN")
TYPE = ("THERAPY_50", "THERAPY 50")
REASONS = {
    "PATIENT_REQUEST": "PATIENT CANCELLED",
    "WEATHER": "WEATHER",
    "NO_SHOW": "NO SHOW",
}

PATIENT_NAME = ("ZEPHYRINE", "QUILLFEATHER")
PATIENT_DOB = "1971-07-19"


class RecordingControl:
    """QueueControl for tests: records the wait a decision asked for; `drain` then decides
    when the message comes back (at once for retries: tests do not sleep backoffs)."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def defer(self, receipt_handle: str, seconds: float, lane: str = "interactive") -> None:
        self.waits.append(seconds)


# A rate-limit deferral longer than this is held until the test says the window has passed.
HOLD_DEFERRALS_OVER = 5.0


@dataclass
class Stack:
    local: LocalStack
    environment: dict[str, str]
    mappings: list[Mapping] | None = None  # looked up by the package's first test

    def client(self, service: str) -> Any:
        assert self.local.moto is not None
        return self.local.moto.client(service)

    @property
    def tables(self) -> dict[str, str]:
        assert self.local.resources is not None
        return dict(self.local.resources.tables)

    @property
    def queues(self) -> dict[str, str]:
        assert self.local.resources is not None
        return dict(self.local.resources.queues)

    def wipe(self) -> None:
        dynamodb = self.client("dynamodb")
        for name in self.tables.values():
            keys = [
                {"pk": item["pk"], "sk": item["sk"]}
                for page in dynamodb.get_paginator("scan").paginate(
                    TableName=name, ProjectionExpression="pk, sk"
                )
                for item in page["Items"]
            ]
            for start in range(0, len(keys), 25):
                batch = [{"DeleteRequest": {"Key": k}} for k in keys[start : start + 25]]
                dynamodb.batch_write_item(RequestItems={name: batch})
        sqs = self.client("sqs")  # (PurgeQueue is allowed once a minute only)
        for url in self.queues.values():
            while messages := sqs.receive_message(
                QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0
            ).get("Messages"):
                for message in messages:
                    sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


@pytest.fixture(scope="package")
def stack(amd_sim_server: SimHandle) -> Iterator[Stack]:
    config = resources_only(amd_sim_server)
    local = LocalStack(config).start()
    patch = pytest.MonkeyPatch()
    try:
        assert local.moto is not None
        spec = local.functions["SyncWorkerFunction"]
        environment = lambda_environment(spec, local.moto.environment())
        for key, value in environment.items():
            patch.setenv(key, value)
        yield Stack(local, environment)
    finally:
        patch.undo()
        local.stop()


@dataclass
class World:
    """One test's product (a worker's Services + SyncContext) and simulator."""

    stack: Stack
    sim: SimHandle
    services: Services
    ctx: SyncContext
    metrics: RecordingMetrics
    tag: str
    settings: WorkerSettings
    decisions: list[JobDecision] = field(default_factory=list)
    held: list[tuple[str, Lane]] = field(default_factory=list)
    dead_lettered: list[SyncJob] = field(default_factory=list)
    registered_names: set[str] = field(default_factory=set)
    registered_dobs: set[str] = field(default_factory=set)

    # ------------------------------------------------------------ building blocks

    def new_services(self, limits: LimitTable | None = None) -> Services:
        """Another process's worth of product (own AMD client, same tables and token cache)."""
        return Services(self.settings, self.metrics, limits=limits or TEST_LIMITS)

    def id(self, name: str) -> str:
        """A per-test EHR id (SQS FIFO deduplicates for 5 minutes across tests)."""
        return f"{name}-{self.tag}"

    def next_rate_window(self) -> None:
        """Stand-in for waiting out the rate window: drop this minute's budget counters (the
        limiter's DynamoDB items), as if the next minute had begun."""
        dynamodb = self.stack.client("dynamodb")
        table = self.stack.tables["ControlTable"]
        for page in dynamodb.get_paginator("scan").paginate(TableName=table):
            for item in page["Items"]:
                if item["sk"]["S"].startswith("RATE#"):
                    dynamodb.delete_item(TableName=table, Key={"pk": item["pk"], "sk": item["sk"]})
        while self.held:  # and the jobs deferred until then come back
            receipt, lane = self.held.pop()
            self.services.queue.defer(receipt, 0, lane)

    def report(self) -> dict[str, Any]:
        return self.sim.admin.report()

    # ------------------------------------------------------------ the EHR side

    def register_patient(
        self, patient_id: str, first: str = PATIENT_NAME[0], last: str = PATIENT_NAME[1],
        dob: str = PATIENT_DOB, version: int = 1,
    ) -> Accepted[Any]:  # fmt: skip
        self.registered_names |= {first, last, f"{last},{first}"}
        self.registered_dobs.add(dob)
        demographics = PatientDemographics.model_validate(
            {
                "firstName": first,
                "lastName": last,
                "dateOfBirth": dob,
                "sex": "F",
                "phone": "5555550142",
                "address": {"line1": "7 Lark Lane", "city": "Ogden", "state": "UT", "zip": "84401"},
                "ehrVersion": version,
            }
        )
        return Intake(self.ctx).register_patient(patient_id, demographics)

    def register(
        self, appointment_id: str, patient_id: str, start: datetime, version: int = 1,
        provider: str = "DR-1", duration: int = 50, status: str = "SCHEDULED",
        zone: str = "America/Denver",
    ) -> Accepted[Any]:  # fmt: skip
        desired = DesiredAppointment.model_validate(
            {
                "patientId": patient_id,
                "providerId": provider,
                "facilityId": FACILITY[0],
                "appointmentType": TYPE[0],
                "start": start.isoformat(timespec="seconds"),
                "timeZone": zone,
                "durationMinutes": duration,
                "status": status,
                "ehrVersion": version,
            }
        )
        return Intake(self.ctx).register_appointment(appointment_id, desired)

    def change_status(
        self, appointment_id: str, status: str, reason: str | None = None
    ) -> Accepted[Any]:
        change = StatusChange.model_validate({"status": status, "reason": reason})
        return Intake(self.ctx).change_status(appointment_id, change)

    def set_policy(self, policy: str) -> None:
        current = self.ctx.settings.get()
        self.ctx.settings.save(
            current.value.model_copy(update={"conflict_policy": policy}), current.version
        )

    # ------------------------------------------------------------ the worker side

    def drain(
        self, ctx: SyncContext | None = None, max_messages: int = 10_000
    ) -> list[JobDecision]:
        """Run the sync worker over both lanes' queues until they are empty, as Lambda + SQS
        would (the interactive lane first, as its own worker would keep it short): a deferred
        or retried job comes back (at once: the wait is recorded, not slept); a dead-lettered
        one is kept as failed work. Returns this drain's decisions."""
        sqs = self.stack.client("sqs")
        lanes = [(INTERACTIVE, self.settings.sync_queue_url)]
        if self.settings.background_queue_url:
            lanes.append((BACKGROUND, self.settings.background_queue_url))
        control = RecordingControl()
        dead_letters = _RecordingDeadLetters(self.services.dead_letters())
        decisions: list[JobDecision] = []
        handled = 0
        idle = 0
        while idle < 3:
            lane, url, messages = _receive(sqs, lanes)
            if not messages:
                idle += 1
                continue
            idle = 0
            for message in messages:
                handled += 1
                assert handled <= max_messages, f"queue did not drain: {decisions[-5:]}"
                ref = RecordRef(message["MessageId"], message["ReceiptHandle"], message["Body"])
                try:
                    decisions.append(
                        handle_record(
                            ref, lambda: JobProcessor(ctx or self.ctx), control, dead_letters
                        )
                    )
                except RetryRecord as exc:
                    decisions.append(exc.decision)
                    receipt = message["ReceiptHandle"]
                    if exc.decision.kind == "defer" and exc.decision.delay > HOLD_DEFERRALS_OVER:
                        self.held.append((receipt, lane))  # as SQS would: back after the wait
                        self.services.queue.defer(receipt, exc.decision.delay, lane)
                    else:
                        self.services.queue.defer(receipt, 0, lane)
                    continue
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        self.dead_lettered += dead_letters.sent
        self.decisions += decisions
        return decisions

    def pull(self, ctx: SyncContext | None = None) -> PullSummary:
        # As the scheduled pull does: wait the moment the change feed's spacing may ask for
        # (about 1 s under TEST_LIMITS) instead of answering "too soon".
        return PullRun(ctx or self.ctx, PullOptions(max_feed_wait=FEED_WAIT)).run()

    def feed(self) -> list[Any]:
        return self.ctx.feed.read(0, 1000)

    def record(self, appointment_id: str) -> Any:
        stored = self.ctx.appointments.get(appointment_id)
        assert stored is not None
        return stored.value

    def amd_appointments(self, **params: str) -> list[dict[str, Any]]:
        return self.sim.admin.appointments(all="1", **params)


def _receive(sqs: Any, lanes: list[tuple[Lane, str]]) -> tuple[Lane, str, list[Any]]:
    """The next batch from the first lane that has one (empty when every lane is)."""
    for lane, url in lanes:
        reply = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=120, WaitTimeSeconds=0
        )
        if messages := reply.get("Messages", []):
            return lane, url, messages
    return lanes[0][0], lanes[0][1], []


class _RecordingDeadLetters:
    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.sent: list[SyncJob] = []

    def send(self, job: SyncJob, reason: str, attempts: int = 0) -> None:
        self.sent.append(job)
        self._inner.send(job, reason, attempts)


def work_day(days_ahead: int, hour: int, minute: int = 0) -> datetime:
    """A practice-local wall time on the `days_ahead`-th Mon-Fri after today (never today)."""
    day = datetime.now(ZONE).date()
    found = 0
    while found < days_ahead:
        day += timedelta(days=1)
        if day.weekday() < 5:
            found += 1
    return datetime(day.year, day.month, day.day, hour, minute)


def work_days(count: int, first_ahead: int = 2) -> list[date]:
    return [work_day(first_ahead + i, 0).date() for i in range(count)]


def confirm_mappings(ctx: SyncContext, services: Services) -> None:
    """Confirmed mappings picked from the simulator's lookups (never hard-coded AMD ids)."""
    for mapping in looked_up_mappings(services):
        ctx.mappings.put(mapping)


def looked_up_mappings(services: Services) -> list[Mapping]:
    """The test's EHR ids mapped to the AMD ids the simulator's lookups answer."""
    admin = services.amd_admin()
    providers = {p.amd_id: p for p in admin.lookup("providers")}
    mappings = []
    for ehr_id, index in {**PROVIDERS, **BULK_PROVIDERS}.items():
        profile = providers[str(101 + index)]
        assert profile.column_ids == [str(201 + index)], profile
        mappings.append(
            Mapping(
                kind=MappingKind.PROVIDERS,
                ehr_id=ehr_id,
                amd_id=profile.amd_id,
                amd_column_id=profile.column_ids[0],
                confirmed=True,
            )
        )
    facility = next(f for f in admin.lookup("facilities") if f.code == FACILITY[1])
    mappings.append(
        Mapping(
            kind=MappingKind.FACILITIES, ehr_id=FACILITY[0], amd_id=facility.amd_id, confirmed=True
        )
    )
    appt_type = next(t for t in admin.lookup("appointment-types") if t.name == TYPE[1])
    mappings.append(
        Mapping(
            kind=MappingKind.APPOINTMENT_TYPES,
            ehr_id=TYPE[0],
            amd_id=appt_type.amd_id,
            confirmed=True,
        )
    )
    reasons = {r.name: r.amd_id for r in admin.lookup("reasons")}
    mappings += [
        Mapping(kind=MappingKind.REASONS, ehr_id=ehr_id, amd_id=reasons[name], confirmed=True)
        for ehr_id, name in REASONS.items()
    ]
    return mappings


_counter = iter(range(1, 1_000_000))


@pytest.fixture
def world(stack: Stack, amd_sim: SimHandle, caplog: pytest.LogCaptureFixture) -> Iterator[World]:
    # The product runs on the real clock, so the simulator does too (a reset without a clock).
    amd_sim.admin.reset(**SIM_SEED)
    amd_sim.admin.config(**SIM_LIMITS)
    stack.wipe()
    caplog.set_level(logging.INFO)
    caplog.set_level(logging.DEBUG, logger="amdsync")
    settings = load_settings(WorkerSettings)
    metrics = RecordingMetrics()
    services = Services(settings, metrics, limits=TEST_LIMITS)
    ctx = services.context()
    tag = f"{os.getpid() % 1000}{next(_counter)}"
    w = World(stack, amd_sim, services, ctx, metrics, tag, settings)
    if stack.mappings is None:  # the same seed each test: the same AMD ids (module docstring)
        stack.mappings = looked_up_mappings(services)
    for mapping in stack.mappings:
        ctx.mappings.put(mapping)
    yield w
    phi.assert_clean(w, caplog)
