"""The product side of the model-based test (test_model_based.py; the reference model is in
model_reference.py), and the checks that compare the two after a settle.

`Harness` is the product for real: `Intake`, the sync worker's `handle_record` +
`JobProcessor` over the SQS FIFO queue (moto), `PullRun`, DynamoDB (moto), the AMD client over
HTTP to the simulator, all on the simulator's frozen clock (`SimTime`: a wait advances it).
Added around the queue, as SQS behaves and moto does not, or as a crash would have it:

* `DedupWindow`: SQS FIFO drops a message whose deduplication id was sent in the last 5
  minutes even when the first one was already deleted; moto forgets it on delete.
* redelivery: a handled message is left undeleted, so it is delivered again.
* crashes: a worker dies right after its k-th port call (campaign.CrashPlan); its message
  comes back only after a pull has run, as the visibility timeout would have it.
* races: the EHR writes while the worker is pushing the same appointment or patient
  (right after the worker's first write to AMD for it).
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from amdsync.amd.errors import AmdError
from amdsync.amd.lanes import Lane
from amdsync.domain.appointments import DesiredAppointment, StatusChange
from amdsync.domain.mappings import MappingKind
from amdsync.domain.patients import PatientDemographics
from amdsync.domain.settings import Settings
from amdsync.jobs import SyncJob
from amdsync.sync.context import SyncContext
from amdsync.sync.intake import Accepted, Intake
from amdsync.sync.pull import PullOptions, PullRun, PullSummary
from amdsync.sync.queue_worker import RecordRef, RetryRecord, handle_record
from amdsync.sync.worker import JobProcessor
from local.amdsim.handle import SimHandle
from local.runner.stack import LocalStack
from tests.reliability.campaign import CrashingProxy, CrashPlan, WorkerCrash
from tests.reliability.model_reference import (
    FIELDS,
    MODEL_PROVIDERS,
    STATUS_OF_CODE,
    Expected,
    Model,
    Value,
    instant,
)
from tests.reliability.world import (
    PROVIDERS,
    Product,
    SimTime,
    Slots,
    confirm_mappings,
    work_days,
)

PRACTICE_ZONE = ZoneInfo("America/Denver")


def _epoch() -> datetime:
    """A Wednesday, 19:00 at the practice (off-peak, work days follow), one to two weeks from
    now: the EHR's start window (SPEC §9.2) is judged on the real date, so a fixed date would
    stop being valid one day."""
    day = datetime.now(PRACTICE_ZONE).date() + timedelta(days=7)
    while day.weekday() != 2:
        day += timedelta(days=1)
    return datetime.combine(day, time(19, 0), PRACTICE_ZONE).astimezone(UTC)


EPOCH = _epoch()
SIM_SEED = {"seed": 5, "patients": 30, "appointments": 0}
DEDUP_SECONDS = 300  # SQS FIFO deduplication interval
PULL_INTERVAL = 61  # GETUPDATEDVISITS at most once a minute of AMD's clock (SPEC §9.3)


class DedupWindow:
    """The product's SQS queue with SQS's deduplication interval on the product's clock."""

    def __init__(self, inner: Any, clock: SimTime) -> None:
        self._inner = inner
        self._clock = clock
        self._sent: dict[str, datetime] = {}
        self.dropped: list[str] = []

    def enqueue(self, jobs: list[SyncJob], bulk_job_id: str | None = None) -> None:
        now = self._clock.now()
        fresh = []
        for job in jobs:
            first = self._sent.get(job.dedup_id)
            if first is not None and (now - first).total_seconds() < DEDUP_SECONDS:
                self.dropped.append(job.dedup_id)
                continue
            self._sent[job.dedup_id] = now
            fresh.append(job)
        if fresh:
            self._inner.enqueue(fresh, bulk_job_id)

    def depth(self, lane: Lane | None = None) -> int:
        return int(self._inner.depth(lane))


# Port methods that change AMD: a "race" fires right after the first of them for its entity.
AMD_WRITES = frozenset(
    {"book", "edit", "move", "confirm", "check_in", "check_out", "no_show", "cancel",
     "add_patient", "update_patient"}
)  # fmt: skip


class WriteObserver:
    """Forwards a port; tells the harness after every call that changed AMD."""

    def __init__(self, inner: Any, after_write: Callable[[str], None]) -> None:
        self._inner = inner
        self._after_write = after_write

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._inner, name)
        if name not in AMD_WRITES:
            return value

        def call(*args: Any, **kwargs: Any) -> Any:
            result = value(*args, **kwargs)
            self._after_write(name)
            return result

        return call


@dataclass
class Race:
    """Something the EHR does while the worker is busy with `entity` (fired once)."""

    kind: str  # "appointment" | "patient"
    entity_id: str
    act: Callable[[], object]
    fired: bool = False


class RecordingDeadLetters:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    def send(self, job: SyncJob, reason: str, attempts: int = 0) -> None:
        self.sent.append((job.entity_id, reason))


class Control:
    """QueueControl for `handle_record`: a deferred/retried message comes back once its wait
    has passed on the simulated clock (waiting is advancing it)."""

    def __init__(self, harness: Harness) -> None:
        self._h = harness

    def defer(self, receipt_handle: str, seconds: float, lane: Lane = "interactive") -> None:
        self._h.clock.sleep(min(seconds, 900.0))
        self._h.visible(receipt_handle)

    def enqueue(self, jobs: list[SyncJob], bulk_job_id: str | None = None) -> None:
        self._h.ctx.queue.enqueue(jobs, bulk_job_id)


@dataclass
class SettleReport:
    rounds: int
    pulls_failed: int
    handled: int


class NeverSettled(AssertionError):
    pass


def _wipe(aws: LocalStack) -> None:
    """Forget the last example, except what its successor would only rebuild the same way
    (mappings, settings, lookup caches: the simulator is re-seeded identically) and the
    append-only logs and audit trail, which no sync decision reads."""
    assert aws.moto is not None and aws.resources is not None
    dynamodb = aws.moto.client("dynamodb")
    for name, table in aws.resources.tables.items():
        if name in ("LogsTable", "AuditTable", "CacheTable"):
            continue
        doomed = [
            {"pk": item["pk"], "sk": item["sk"]}
            for page in dynamodb.get_paginator("scan").paginate(
                TableName=table, ProjectionExpression="pk, sk"
            )
            for item in page["Items"]
            if not any(kept in item["pk"]["S"] for kept in ("#MAPPING#", "#SETTINGS"))
        ]
        for start in range(0, len(doomed), 25):
            batch = [{"DeleteRequest": {"Key": key}} for key in doomed[start : start + 25]]
            dynamodb.batch_write_item(RequestItems={table: batch})


# Messages a crashed worker left in flight (an example that failed may leave some behind).
_IN_FLIGHT: list[str] = []


def _empty_queue(sqs: Any, url: str) -> None:
    """Delete every message (PurgeQueue is allowed once a minute only)."""
    while _IN_FLIGHT:
        # (one deleted meanwhile, or whose receipt expired, has nothing to free)
        with contextlib.suppress(Exception):
            sqs.change_message_visibility(
                QueueUrl=url, ReceiptHandle=_IN_FLIGHT.pop(), VisibilityTimeout=0
            )
    while messages := sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0
    ).get("Messages"):
        for message in messages:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


@dataclass
class Harness:
    sim: SimHandle
    aws: LocalStack
    product: Product
    ctx: SyncContext  # what the worker and the pull run with (crash + race proxies)
    plain: SyncContext  # the same ports without proxies (the EHR's requests, the checks)
    queue: DedupWindow
    plan: CrashPlan
    sqs: Any
    queue_url: str
    dead_letters: RecordingDeadLetters = field(default_factory=RecordingDeadLetters)
    races: list[Race] = field(default_factory=list)
    redeliver_budget: int = 0
    crash_at: int = 0
    crashed: list[str] = field(default_factory=list)
    current: SyncJob | None = None
    handled: int = 0
    redelivered: int = 0
    slots: Slots | None = None

    # -------------------------------------------------------------- building

    @classmethod
    def start(cls, aws: LocalStack, sim: SimHandle) -> Harness:
        """A fresh product and simulator for one example (tables wiped, queue purged)."""
        sim.admin.reset(clock=EPOCH.isoformat(), frozen=True, **SIM_SEED)
        _wipe(aws)
        assert aws.moto is not None and aws.resources is not None
        sqs = aws.moto.client("sqs")
        product = Product.build(sim)
        url = product.services.settings.sync_queue_url
        _empty_queue(sqs, url)
        if not product.ctx.mappings.list(MappingKind.PROVIDERS):  # the first example
            confirm_mappings(product)
            settings = product.ctx.settings.get()
            # Front-desk cancels are random here, not a mass change (SPEC §6 guard off).
            relaxed = Settings.model_validate(
                {**settings.value.model_dump(by_alias=True), "massChangeGuardRatio": 1.0}
            )
            product.ctx.settings.save(relaxed, settings.version)
        queue = DedupWindow(product.services.queue, product.clock)
        plain = dataclasses.replace(product.ctx, queue=queue)
        plan = CrashPlan()
        harness = cls(sim, aws, product, plain, plain, queue, plan, sqs, url)
        harness.ctx = dataclasses.replace(
            plain,
            scheduler=CrashingProxy(WriteObserver(plain.scheduler, harness._wrote), plan, "amd"),
            amd_patients=CrashingProxy(
                WriteObserver(plain.amd_patients, harness._wrote), plan, "amd"
            ),
            appointments=CrashingProxy(plain.appointments, plan, "appointments"),
            patients=CrashingProxy(plain.patients, plan, "patients"),
            feed=CrashingProxy(plain.feed, plan, "feed"),
        )
        today = product.clock.now().astimezone(PRACTICE_ZONE).date()
        harness.slots = Slots(work_days(today + timedelta(days=1), 15), MODEL_PROVIDERS)
        # The bootstrap (a watermark before anything happens in AMD), over one day only: AMD
        # holds none of our appointments yet.
        PullRun(harness.ctx, PullOptions(bootstrap_days_back=0, bootstrap_days_ahead=0)).run()
        return harness

    @property
    def clock(self) -> SimTime:
        return self.product.clock

    def take_slot(self, provider: str | None = None) -> tuple[str, str]:
        """(provider, practice-local start) never used before: no booking can overlap."""
        assert self.slots is not None
        return self.slots.take(provider)

    # -------------------------------------------------------------- the EHR side

    def put_appointment(self, appointment_id: str, body: dict[str, Any]) -> Accepted[Any]:
        return Intake(self.plain).register_appointment(
            appointment_id, DesiredAppointment.model_validate(body)
        )

    def change_status(self, appointment_id: str, body: dict[str, Any]) -> Accepted[Any]:
        return Intake(self.plain).change_status(appointment_id, StatusChange.model_validate(body))

    def put_patient(
        self, patient_id: str, body: dict[str, Any], ctx: SyncContext | None = None
    ) -> Accepted[Any]:
        return Intake(ctx or self.plain).register_patient(
            patient_id, PatientDemographics.model_validate(body)
        )

    # -------------------------------------------------------------- the AMD side

    def visits_by_reference(self) -> dict[str, list[Any]]:
        state = self.sim.sim.state
        found: dict[str, list[Any]] = {}
        with state.lock:
            for visit in state.visits.values():
                if visit.is_appt and visit.referenceid:
                    found.setdefault(visit.referenceid, []).append(visit)
        return found

    def visit_of(self, appointment_id: str) -> Any | None:
        visits = self.visits_by_reference().get(self.plain.reference_id(appointment_id), [])
        return visits[0] if len(visits) == 1 else None

    def inject(self, spec: dict[str, Any]) -> None:
        self.sim.sim.faults.add(spec)

    # -------------------------------------------------------------- the worker and the pull

    def _wrote(self, method: str) -> None:
        job = self.current
        if job is None:
            return
        for race in self.races:
            if not race.fired and race.kind == job.kind and race.entity_id == job.entity_id:
                race.fired = True
                race.act()

    def fire_races(self) -> None:
        """A race whose entity never reached AMD this settle happens after the drain."""
        for race in self.races:
            if not race.fired:
                race.fired = True
                race.act()
        self.races = []

    def visible(self, receipt_handle: str) -> None:
        self.sqs.change_message_visibility(
            QueueUrl=self.queue_url, ReceiptHandle=receipt_handle, VisibilityTimeout=0
        )

    def drain(self) -> None:
        """The worker over the queue, one message at a time, until no message is visible."""
        control = Control(self)
        while True:
            reply = self.sqs.receive_message(
                QueueUrl=self.queue_url,
                MaxNumberOfMessages=1,
                VisibilityTimeout=600,
                WaitTimeSeconds=0,
                AttributeNames=["All"],
            )
            messages = reply.get("Messages", [])
            if not messages:
                return
            message = messages[0]
            self.handled += 1
            if self.handled > 3000:
                raise NeverSettled("the queue never drains (3000 deliveries)")
            self._handle(message, control)

    def work(self) -> None:
        """The worker alone (the schedule has not pulled yet): crashes wait for a settle."""
        crash_at, self.crash_at = self.crash_at, 0
        try:
            self.drain()
        finally:
            self.crash_at = crash_at

    def pull_now(self) -> bool:
        """The scheduled pull alone (a minute after the last one); False if it failed."""
        self.clock.sleep(PULL_INTERVAL)
        return self.pull() is not None

    def _handle(self, message: dict[str, Any], control: Control) -> None:
        receipt = message["ReceiptHandle"]
        ref = RecordRef(
            message["MessageId"],
            receipt,
            message["Body"],
            int(message.get("Attributes", {}).get("ApproximateReceiveCount", "1")),
        )
        self.current = SyncJob.model_validate_json(message["Body"])
        if self.crash_at:
            self.plan.arm(self.crash_at)
            self.crash_at = 0
        try:
            handle_record(ref, lambda: JobProcessor(self.ctx), control, self.dead_letters)
        except RetryRecord:
            return  # Control.defer made it visible again after the wait
        except WorkerCrash:
            self.crashed.append(receipt)  # back after the visibility timeout
            _IN_FLIGHT.append(receipt)
            return
        finally:
            self.plan.disarm()
            self.current = None
        if self.redeliver_budget > 0:
            self.redeliver_budget -= 1
            self.redelivered += 1
            self.visible(receipt)  # handled, but not deleted: SQS delivers it again
            return
        self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=receipt)

    def pull(self) -> PullSummary | None:
        """One scheduled pull; None when AMD failed it. One that was too soon for AMD's feed
        budget runs again on a later tick."""
        for _ in range(3):
            try:
                summary = PullRun(self.ctx).run()
            except AmdError:
                return None  # the schedule runs it again; the watermark did not move
            if summary.status != "too_soon":
                return summary
            self.clock.sleep((summary.retry_after or PULL_INTERVAL) + 1)  # the next tick
        raise NeverSettled("the pull was too soon three ticks in a row")

    def settle(self, rounds: int = 10) -> SettleReport:
        """Work until quiet: drain, pull, repeat until a pull finds nothing and the queue is
        empty. Injected faults fire during the first rounds; what is left is cleared after."""
        failed = 0
        handled = self.handled
        for index in range(rounds):
            if index == 3:
                self.sim.sim.faults.clear()
            self.drain()
            if self.crashed:
                # The dead worker's message is invisible for a while; the schedule pulls
                # meanwhile (the crash window), then SQS delivers the message again.
                self.clock.sleep(PULL_INTERVAL)
                failed += self.pull() is None
                while self.crashed:
                    self.visible(self.crashed.pop())
                continue
            if any(not race.fired for race in self.races):
                self.fire_races()
                continue
            self.clock.sleep(PULL_INTERVAL)
            before = self.plain.feed.head()
            summary = self.pull()
            if summary is None:
                failed += 1
                continue
            quiet = (
                summary.status == "ok"
                and summary.updated == 0
                and self.plain.feed.head() == before
                and self.queue.depth() == 0
            )
            if quiet:
                self.sim.sim.faults.clear()
                self.races = []
                return SettleReport(index + 1, failed, self.handled - handled)
        raise NeverSettled(f"not quiet after {rounds} rounds of drain + pull")


# ------------------------------------------------------------------------------ the checks


def canonical(status: Value) -> Value:
    return {"CHECKED_OUT": "COMPLETED", "RESCHEDULED": "SCHEDULED"}.get(str(status), status)


def amd_view(visit: Any, provider_of_column: dict[int, str]) -> dict[str, Value]:
    """A simulator visit in the model's terms."""
    status = STATUS_OF_CODE.get(visit.status, f"code {visit.status}")
    if visit.status == 0 and visit.confirmed_at:
        status = "CONFIRMED"
    return {
        "start": visit.start.replace(tzinfo=PRACTICE_ZONE).astimezone(UTC).isoformat(),
        "providerId": provider_of_column.get(visit.column_id, f"column {visit.column_id}"),
        "durationMinutes": visit.duration,
        "status": status,
    }


def record_view(record: Any) -> dict[str, Value]:
    """Our sync record's desired state in the model's terms."""
    return {
        "start": instant(record.start, record.time_zone),
        "providerId": record.provider_id,
        "durationMinutes": record.duration_minutes,
        "status": canonical(str(record.status)),
    }


def check(h: Harness, model: Model, expected: Expected, feed_head: int) -> list[str]:
    """Everything that must hold after a settle; `feed_head`: the feed's head at the last
    check (what was published since must be exactly what the model expects)."""
    problems: list[str] = []
    problems += _appointments(h, model)
    problems += _feed(h, model, expected, feed_head)
    problems += _patients(h, model)
    problems += _world(h)
    return problems


def _appointments(h: Harness, model: Model) -> list[str]:

    columns = {201 + PROVIDERS[p]: p for p in MODEL_PROVIDERS}
    by_reference = h.visits_by_reference()
    problems: list[str] = []
    for appt in model.appts.values():
        aid = appt.appointment_id
        stored = h.plain.appointments.get(aid)
        if stored is None:
            problems.append(f"{aid}: no sync record")
            continue
        record = stored.value
        where = f"{aid} ({record.amd_sync_status} {record.amd_sync_error_code})"
        wanted_status = "conflict" if appt.frozen else "synced"
        if record.amd_sync_status != wanted_status:
            problems.append(f"{where}: expected {wanted_status}; model conflicts {appt.conflicts}")
        if record.ehr_version != appt.version:
            problems.append(
                f"{where}: ehrVersion {record.ehr_version}, the EHR sent {appt.version}"
            )
        mine = record_view(record)
        for name in FIELDS:
            if mine[name] != appt.ehr[name]:
                problems.append(
                    f"{where}: record {name}={mine[name]!r}, expected {appt.ehr[name]!r}"
                )
        visits = by_reference.get(h.plain.reference_id(aid), [])
        if len(visits) > 1:
            problems.append(f"{where}: {len(visits)} AMD visits {[v.id for v in visits]}")
        if not appt.booked:
            if any(v.status < 10 for v in visits):
                problems.append(f"{where}: cancelled before it was synced, yet booked in AMD")
            continue
        if not visits:
            problems.append(f"{where}: not in AMD")
            continue
        visit = visits[0]
        if record.advanced_md_visit_id != str(visit.id):
            problems.append(f"{where}: record visit {record.advanced_md_visit_id}, AMD {visit.id}")
        theirs = amd_view(visit, columns)
        for name in FIELDS:
            if canonical(theirs[name]) != appt.amd[name]:
                problems.append(
                    f"{where}: AMD {name}={theirs[name]!r}, expected {appt.amd[name]!r}"
                )
        if appt.frozen:
            conflict = h.plain.conflicts.get(aid)
            fields = set(conflict.fields) if conflict else set()
            if fields != set(appt.conflicts):
                problems.append(
                    f"{where}: conflict on {sorted(fields)}, expected {sorted(appt.conflicts)}"
                )
        if appt.charged and record.charges_posted is not True:
            problems.append(f"{where}: charges posted in AMD (visit {visit.id}) never seen")
    return problems


def _same_value(name: str, published: Value, value: Value, zone: str) -> bool:
    if name == "start":
        return isinstance(published, str) and instant(published, zone) == value
    if name == "status":
        return canonical(published) == value
    return published == value


def _feed(h: Harness, model: Model, expected: Expected, feed_head: int) -> list[str]:
    entries = h.plain.feed.read(feed_head, 100_000)
    problems: list[str] = []
    wanted = {(aid, name) for aid, name, _, _ in expected.feed}
    for aid, name, value, zone in expected.feed:
        # A feed entry's start is wall time in the appointment's zone when it was published.
        if not any(
            e.appointment_id == aid
            and name in e.fields
            and _same_value(name, e.fields[name], value, str(e.fields.get("timeZone") or zone))
            for e in entries
        ):
            problems.append(f"{aid}: AMD-side change {name}={value!r} missing from the feed")
    for e in entries:
        if e.kind == "unlinked":
            problems.append(f"feed: 'unlinked' entry for visit {e.advanced_md_visit_id}")
            continue
        for name in FIELDS:
            if name in e.fields and (e.appointment_id, name) not in wanted:
                problems.append(
                    f"{e.appointment_id}: feed reports an AMD-side {name}={e.fields[name]!r} "
                    "that the front desk never made"
                )
    for aid in expected.charges:
        if not any(e.appointment_id == aid and "charge" in str(e.model_dump()).lower()
                   for e in entries):  # fmt: skip
            problems.append(f"{aid}: charges posted in AMD never published to the feed")
    unlinked = h.plain.appointments.list_unlinked()
    if unlinked:
        problems.append(
            f"unlinked AMD visits recorded: {[u.advanced_md_visit_id for u in unlinked]}"
        )
    return problems


def _patients(h: Harness, model: Model) -> list[str]:
    problems: list[str] = []
    state = h.sim.sim.state
    for patient in model.patients:
        pid = patient.patient_id
        stored = h.plain.patients.get(pid)
        if stored is None:
            problems.append(f"{pid}: no patient record")
            continue
        record = stored.value
        where = f"{pid} ({record.amd_sync_status} {record.amd_sync_error_code})"
        if record.amd_sync_status != "synced":
            problems.append(f"{where}: not synced")
        if record.ehr_version != patient.version:
            problems.append(
                f"{where}: ehrVersion {record.ehr_version}, the EHR sent {patient.version}"
            )
        with state.lock:
            mine = [p for p in state.patients.values() if p.additionalmrn == pid.upper()]
            amd = state.patients.get(int(record.advanced_md_patient_id or 0))
        if len(mine) > 1:
            problems.append(f"{where}: {len(mine)} AMD patients {[p.id for p in mine]}")
        if amd is None:
            problems.append(f"{where}: AMD patient {record.advanced_md_patient_id} not found")
            continue
        c = patient.content
        lines = {amd.address.get("address1", ""), amd.address.get("address2", "")}
        checks = {
            "name": (amd.name, f"{c['last']},{c['first']}".upper()),
            "dob": (amd.dob.isoformat(), c["dob"]),
            "phone": ("".join(ch for ch in amd.contactinfo.get("homephone", "") if ch.isdigit()),
                      c["phone"]),
            "address": (c["line1"].upper() in lines, True),
            "city": (amd.address.get("city", ""), c["city"].upper()),
            "zip": (amd.address.get("zip", "").strip(), c["zip"]),
        }  # fmt: skip
        for name, (got, want) in checks.items():
            if got != want:
                problems.append(
                    f"{where}: AMD patient {amd.id} {name} differs from version {patient.version}"
                )
    return problems


def _world(h: Harness) -> list[str]:
    problems: list[str] = []
    summary = h.sim.sim.state.summary()
    if summary["duplicate_appointments"]:
        problems.append(f"duplicate AMD appointments: {summary['duplicate_appointment_groups']}")
    if summary["duplicate_patients"]:
        problems.append(f"duplicate AMD patients: {summary['duplicate_patient_groups']}")
    if h.dead_letters.sent:
        problems.append(f"dead-lettered: {h.dead_letters.sent}")
    if h.queue.depth():
        problems.append(f"{h.queue.depth()} jobs still queued after the settle")
    report = h.sim.admin.report()
    if report["rate_limited"]["total"]:
        problems.append(f"AMD rate limit exceeded: {report['rate_limited']}")
    real_429 = report["http_429"] - report["faults_injected"].get("429", 0)
    if real_429 > 0:
        problems.append(f"{real_429} real HTTP 429 from AMD")
    if report["violations"]["count"]:
        problems.append(f"protocol violations: {report['violations']['items'][:5]}")
    return problems
