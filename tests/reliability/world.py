"""The product in-process on a simulated clock shared with the AMD simulator.

Used by the fault campaign and by `bench/`: the worker's real composition (`compose.Services`:
DynamoDB adapters over the local stack's moto, the AdvancedMD client over HTTP to the
simulator) with two substitutions that are configuration, not code:

* the clock: `SimTime` reads the simulator's (frozen) clock, and sleeping advances it, so the
  product's rate windows, token lifetimes and `msgtime`s are the simulator's. Real time spent
  computing never moves simulated time; only waits do.
* the queue: `MemoryQueue` stands in for SQS so the driver decides delivery order, redelivery
  and crashes (SQS's own behaviour is covered by the runner's tests).
"""

from __future__ import annotations

import dataclasses
import os
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import boto3
from moto import mock_aws

from amdsync.compose import Services
from amdsync.config import WorkerSettings, load_settings
from amdsync.domain.appointments import DesiredAppointment, StatusChange
from amdsync.domain.mappings import Mapping, MappingKind
from amdsync.domain.patients import PatientDemographics
from amdsync.jobs import SyncJob
from amdsync.sync.context import SyncContext
from amdsync.sync.intake import Accepted, Intake
from amdsync.sync.metrics import RecordingMetrics
from local.amdsim.handle import SimHandle
from local.runner.function_specs import read_functions
from local.runner.lambda_environment import lambda_environment
from local.runner.moto_endpoint import (
    DUMMY_ACCESS_KEY,
    DUMMY_SECRET_KEY,
    forget_cached_sdk_clients,
)
from local.runner.resources import LocalResources, create_resources
from local.runner.stack import TEMPLATE_PATH, LocalStack
from local.runner.template import LOCAL_REGION, Template
from tests.stacks import resources_only

ZONE = ZoneInfo("America/Denver")
# Providers whose column is open Mon-Fri 08:00-17:00 with one appointment per slot
# (local/amdsim/seed.py: profile 101+i, column 201+i).
PROVIDER_INDEXES = (1, 2, 3, 5, 6, 7, 10, 11, 13, 14, 15, 17, 18, 21)
PROVIDERS = {f"DR-{i}": i for i in PROVIDER_INDEXES}
FACILITY = ("MAIN", "TCN")
APPT_TYPE = ("THERAPY_50", "THERAPY 50")
REASONS = {"PATIENT_REQUEST": "PATIENT CANCELLED", "NO_SHOW": "NO SHOW"}
SLOT_HOURS = tuple(range(8, 17))  # 50-minute sessions on the hour, 08:00 ... 16:00
REFERENCE_PREFIX = "AMDSYNC-"


class SimTime:
    """The product's Clock on the simulator's clock (frozen): sleeping advances it."""

    def __init__(self, sim: SimHandle) -> None:
        self._clock = sim.sim.clock
        self.slept = 0.0

    def now(self) -> datetime:
        return self._clock.now()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            self.slept += seconds
            self._clock.advance(seconds)


class MemoryQueue:
    """JobQueue for the driver: FIFO of jobs, no SQS dedup (redelivery is the point)."""

    def __init__(self) -> None:
        self.jobs: deque[SyncJob] = deque()
        self.enqueued = 0

    def enqueue(self, jobs: list[SyncJob], bulk_job_id: str | None = None) -> None:
        self.jobs.extend(jobs)
        self.enqueued += len(jobs)

    def depth(self, lane: str | None = None) -> int:
        return sum(1 for job in self.jobs if lane in (None, job.lane))

    def take(self, count: int) -> list[SyncJob]:
        return [self.jobs.popleft() for _ in range(min(count, len(self.jobs)))]


@contextmanager
def moto_stack(sim: SimHandle) -> Iterator[tuple[LocalStack, dict[str, str]]]:
    """The local stack's AWS side only (moto, resources from template.yaml), with the worker's
    Lambda environment set in this process (boto3 follows AWS_ENDPOINT_URL)."""
    config = resources_only(sim)
    forget_cached_sdk_clients()
    stack = LocalStack(config).start()
    saved = dict(os.environ)
    try:
        assert stack.moto is not None
        environment = lambda_environment(
            stack.functions["SyncWorkerFunction"], stack.moto.environment()
        )
        os.environ.update(environment)
        yield stack, environment
    finally:
        os.environ.clear()
        os.environ.update(saved)
        stack.stop()


@contextmanager
def shallow_transaction_backups() -> Iterator[None]:
    """moto backs up every table a TransactWriteItems touches with a deep copy (its rollback),
    so each change-feed append costs O(table size) — seconds per transaction once a table holds
    a few thousand items, in moto's server thread; DynamoDB has no such cost. For in-process
    throughput figures with a single writer (no transaction ever fails, so nothing is rolled
    back) the backup is a shallow copy while this is entered. The code under test is unchanged."""
    import copy  # noqa: PLC0415

    from moto.dynamodb import models  # noqa: PLC0415

    class _Copy:
        @staticmethod
        def deepcopy(value: Any) -> Any:
            if isinstance(value, models.Table):
                return copy.copy(value)
            return copy.deepcopy(value)

    saved = models.copy
    models.copy = _Copy  # type: ignore[assignment]
    try:
        yield
    finally:
        models.copy = saved


@contextmanager
def keyed_transaction_backups() -> Iterator[None]:
    """moto's TransactWriteItems backs up every table it touches with a deep copy, to roll back
    when a condition fails: O(table size) per transaction, so a run whose control table fills
    with 20,000 plan and progress markers spends minutes per thousand transactions in moto;
    DynamoDB has no such cost. While this is entered the backup is of the items the
    transaction names (it can change no others), restored the same way when it fails: moto's
    outcome, failed transactions included, at O(items) instead. The code under test is
    unchanged."""
    import copy  # noqa: PLC0415

    from moto.dynamodb import models  # noqa: PLC0415
    from moto.dynamodb.models.dynamo_type import DynamoType  # noqa: PLC0415

    class _TablesAsIs:  # moto's own table backup becomes the table itself (a no-op restore)
        @staticmethod
        def deepcopy(value: Any) -> Any:
            return value if isinstance(value, models.Table) else copy.deepcopy(value)

    backend = models.DynamoDBBackend
    transact = backend.transact_write_items

    def keyed(self: Any, transact_items: list[dict[str, Any]]) -> None:
        saved: list[tuple[Any, Any, Any, Any]] = []
        for entry in transact_items:
            op = next(iter(entry.values()))
            table = self.tables.get(op.get("TableName"))
            if table is None:
                continue
            key = op.get("Item") or op.get("Key") or {}
            hash_value = DynamoType(key[table.hash_key_attr])
            range_value = DynamoType(key[table.range_key_attr]) if table.has_range_key else None
            item = table.get_item(hash_value, range_value)
            saved.append((table, hash_value, range_value, copy.deepcopy(item)))
        try:
            transact(self, transact_items)
        except Exception:
            for table, hash_value, range_value, item in reversed(saved):
                _put_back(table, hash_value, range_value, item)
            raise

    saved_copy = models.copy
    models.copy = _TablesAsIs  # type: ignore[assignment]
    backend.transact_write_items = keyed  # type: ignore[method-assign]
    try:
        yield
    finally:
        backend.transact_write_items = transact  # type: ignore[method-assign]
        models.copy = saved_copy


def _put_back(table: Any, hash_value: Any, range_value: Any, item: Any) -> None:
    """One item of a moto table as it was (None: absent), without a stream record."""
    if range_value is None:
        if item is None:
            table.items.pop(hash_value, None)
        else:
            table.items[hash_value] = item
    elif item is None:
        table.items[hash_value].pop(range_value, None)
    else:
        table.items[hash_value][range_value] = item


def wipe(stack: LocalStack) -> None:
    assert stack.moto is not None and stack.resources is not None
    dynamodb = stack.moto.client("dynamodb")
    for name in stack.resources.tables.values():
        for page in dynamodb.get_paginator("scan").paginate(TableName=name):
            for item in page["Items"]:
                dynamodb.delete_item(TableName=name, Key={"pk": item["pk"], "sk": item["sk"]})


@dataclass
class Product:
    """One worker process's worth of product: Services + a SyncContext on the shared clock."""

    services: Services
    ctx: SyncContext
    queue: MemoryQueue
    clock: SimTime
    metrics: RecordingMetrics

    @classmethod
    def build(
        cls, sim: SimHandle, *, max_rate_wait: float = 3600.0, clock: SimTime | None = None
    ) -> Product:
        settings = load_settings(WorkerSettings)
        metrics = RecordingMetrics()
        time = clock or SimTime(sim)
        services = Services(settings, metrics, max_rate_wait=max_rate_wait, clock=time)
        queue = MemoryQueue()
        ctx = dataclasses.replace(services.context(), queue=queue)
        return cls(services, ctx, queue, time, metrics)

    def with_ports(self, **ports: Any) -> SyncContext:
        return dataclasses.replace(self.ctx, **ports)


def confirm_mappings(product: Product) -> None:
    """Confirmed mappings from the simulator's own lookups (warms the lookup cache too)."""
    admin = product.services.amd_admin()
    providers = {p.amd_id: p for p in admin.lookup("providers")}
    mappings = product.ctx.mappings
    for ehr_id, index in PROVIDERS.items():
        profile = providers[str(101 + index)]
        mappings.put(
            Mapping(
                kind=MappingKind.PROVIDERS,
                ehr_id=ehr_id,
                amd_id=profile.amd_id,
                amd_column_id=profile.column_ids[0],
                confirmed=True,
            )
        )
    facility = next(f for f in admin.lookup("facilities") if f.code == FACILITY[1])
    mappings.put(
        Mapping(
            kind=MappingKind.FACILITIES, ehr_id=FACILITY[0], amd_id=facility.amd_id, confirmed=True
        )
    )
    appt_type = next(t for t in admin.lookup("appointment-types") if t.name == APPT_TYPE[1])
    mappings.put(
        Mapping(
            kind=MappingKind.APPOINTMENT_TYPES,
            ehr_id=APPT_TYPE[0],
            amd_id=appt_type.amd_id,
            confirmed=True,
        )
    )
    reasons = {r.name: r.amd_id for r in admin.lookup("reasons")}
    for ehr_id, name in REASONS.items():
        mappings.put(
            Mapping(kind=MappingKind.REASONS, ehr_id=ehr_id, amd_id=reasons[name], confirmed=True)
        )


def work_days(first: date, count: int) -> list[date]:
    days: list[date] = []
    day = first
    while len(days) < count:
        if day.weekday() < 5:
            days.append(day)
        day += timedelta(days=1)
    return days


@dataclass
class Slots:
    """Hands out (provider, start) pairs never used before, so no booking can overlap."""

    days: list[date]
    providers: tuple[str, ...] = tuple(PROVIDERS)
    used: set[tuple[str, str]] = field(default_factory=set)
    _cursor: int = 0

    def take(self, provider: str | None = None) -> tuple[str, str]:
        per_day = len(self.providers) * len(SLOT_HOURS)
        total = per_day * len(self.days)
        for _ in range(total):
            index = self._cursor % total
            self._cursor += 7919  # a prime stride spreads slots over days and columns
            day = self.days[index // per_day]
            rest = index % per_day
            who = provider or self.providers[rest // len(SLOT_HOURS)]
            hour = SLOT_HOURS[rest % len(SLOT_HOURS)]
            start = datetime(day.year, day.month, day.day, hour).isoformat(timespec="seconds")
            if (who, start) not in self.used:
                self.used.add((who, start))
                return who, start
        raise RuntimeError("out of slots: give Slots more days")


def demographics(first: str, last: str, dob: str, version: int = 1) -> PatientDemographics:
    return PatientDemographics.model_validate(
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


def desired(
    patient_id: str,
    provider: str,
    start: str,
    version: int,
    status: str = "SCHEDULED",
    duration: int = 50,
) -> DesiredAppointment:
    return DesiredAppointment.model_validate(
        {
            "patientId": patient_id,
            "providerId": provider,
            "facilityId": FACILITY[0],
            "appointmentType": APPT_TYPE[0],
            "start": start,
            "timeZone": "America/Denver",
            "durationMinutes": duration,
            "status": status,
            "ehrVersion": version,
        }
    )


def change(status: str, reason: str | None = None) -> StatusChange:
    return StatusChange.model_validate({"status": status, "reason": reason})


def register(ctx: SyncContext, appointment_id: str, body: DesiredAppointment) -> Accepted[Any]:
    return Intake(ctx).register_appointment(appointment_id, body)


def sim_visits_by_reference(sim: SimHandle) -> dict[str, list[Any]]:
    """Every simulator appointment our product booked, by reference id (read in-process)."""
    state = sim.sim.state
    found: dict[str, list[Any]] = {}
    with state.lock:
        for visit in state.visits.values():
            if visit.is_appt and visit.referenceid.startswith(REFERENCE_PREFIX):
                found.setdefault(visit.referenceid, []).append(visit)
    return found


def amd_calls(report: dict[str, Any]) -> int:
    return int(report["calls"]["total"])


ROOT_OPENAPI = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"


class InProcessAws:
    """moto inside this process (`mock_aws`, no HTTP server): the same moto backends and the
    same resources from template.yaml, minus a loopback HTTP round trip per AWS call. For runs
    whose cost is the number of DynamoDB calls (the 20,000-appointment bulk)."""

    def __init__(self, region: str = LOCAL_REGION) -> None:
        self.region = region

    def client(self, service: str) -> Any:
        return boto3.client(  # type: ignore[call-overload]
            service,
            region_name=self.region,
            aws_access_key_id=DUMMY_ACCESS_KEY,
            aws_secret_access_key=DUMMY_SECRET_KEY,
        )

    def environment(self) -> dict[str, str]:
        return {
            "AWS_ACCESS_KEY_ID": DUMMY_ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": DUMMY_SECRET_KEY,
            "AWS_SESSION_TOKEN": "testing",
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
        }


@dataclass
class InProcessStack:
    """What `wipe` and the tests use of a LocalStack: `moto` and `resources`."""

    moto: InProcessAws
    resources: LocalResources


@contextmanager
def in_process_stack(sim: SimHandle) -> Iterator[InProcessStack]:
    """The local stack's AWS side in process (`mock_aws`), with the sync worker's Lambda
    environment set in this process, as `moto_stack` does over HTTP."""
    forget_cached_sdk_clients()
    saved = dict(os.environ)
    os.environ.pop("AWS_ENDPOINT_URL", None)
    try:
        with mock_aws():
            aws = InProcessAws()
            os.environ.update(aws.environment())
            template = Template.load(TEMPLATE_PATH)
            parameters = template.parameter_values(
                {
                    "OidcIssuer": "http://127.0.0.1/issuer",
                    "OidcAudience": "amdsync",
                    "AmdPartnerLoginUrl": sim.partner_login_url,
                }
            )
            resources = create_resources(template, aws, parameters)  # type: ignore[arg-type]
            functions = read_functions(template, resources.resolver)
            environment = lambda_environment(functions["SyncWorkerFunction"], aws.environment())
            os.environ.update(environment)
            yield InProcessStack(aws, resources)
    finally:
        os.environ.clear()
        os.environ.update(saved)
        forget_cached_sdk_clients()
