"""The demo-data hook: called once the stack is up, before the runner prints `ready`.

Everything goes through the product's HTTP API with the dev tokens, as an admin and the EHR
would do it, so the deployed shape is untouched:

1. confirm mappings from the simulator's lookups (`GET /mappings/{kind}` options): EHR providers
   `DR-1…DR-8` → AMD profile + its scheduler column, the columns' facilities (EHR id = AMD code),
   three appointment types and three reasons;
2. register obviously synthetic patients (`PUT /patients/DEMO-P-001…`);
3. register appointments over the next two weeks (`PUT /appointments/DEMO-A-0001…`), placed in
   each column's working days and hours, on its slot interval, overlapping neither each other nor
   what the simulator already has booked (it enforces 4101/4117/4155/4186).

Registration queues the syncs (auto-sync is on by default) in the background lane: the seed is a
backfill (`AmdSync-Backfill: true`), so a booking made meanwhile is synced at once. The seed does
not wait for them. At peak AMD allows 12 Tier-2 calls a minute, so 300 creates take about 25
minutes: that is the queue and its ETA at work, visible on `GET /sync/dashboard`. The ETA the
seed reports is the dashboard's, read once the workers have finished a sample of jobs after the
last registration (local workers are often slower than AMD's off-peak budget; the dashboard
counts their latest pace, and the pace while the seed itself loaded the API says little).
"""

from __future__ import annotations

import dataclasses
import random
import sys
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from time import monotonic, sleep
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from amdsync.sync.estimate import PACE_SAMPLE
from local.runner.api_client import AmdsyncApi, ApiCallError, SimAdmin

if TYPE_CHECKING:
    from local.runner.stack import LocalStack

# The demo data is the EHR's initial import: a backfill, synced in the background lane, so a
# booking made while it drains is synced at once (SPEC §9.3).
BACKFILL = {"AmdSync-Backfill": "true"}
# EHR appointment type -> (AMD type name, duration in minutes).
APPOINTMENT_TYPES: dict[str, tuple[str, int]] = {
    "THERAPY_50": ("THERAPY 50", 50),
    "INTAKE_60": ("INTAKE 60", 60),
    "MED_MGMT_30": ("MED MGMT 30", 30),
}
# EHR cancel/no-show reason -> AMD reason name.
REASONS: dict[str, str] = {
    "PATIENT_REQUEST": "PATIENT CANCELLED",
    "PROVIDER_UNAVAILABLE": "PROVIDER CANCELLED",
    "NO_SHOW": "NO SHOW",
}
# Nobody is called this: first names are code words, surnames say what they are. None of the
# surnames is one the simulator gives its own patients, so no name+DOB duplicate is provoked.
FIRST_NAMES = (
    "Alpha", "Bravo", "Charlie", "Delta", "Echo", "Foxtrot", "Golf", "Hotel", "India", "Juliet",
    "Kilo", "Lima", "Mike", "November", "Oscar", "Papa", "Quebec", "Romeo", "Sierra", "Tango",
)  # fmt: skip
LAST_NAMES = ("Demopatient", "Fictional", "Madeup", "Pretendson", "Nonperson")
DEFAULT_TIMEZONE = "America/Denver"
# How long the seed may watch the queue drain before it reports the ETA (local/runner/seed.py
# queue_eta), and how often it looks.
PACE_PATIENCE_SECONDS = 120.0
PACE_POLL_SECONDS = 3.0
# Two samples' seconds per job within this share of each other: the drain's pace is steady.
STEADY_RATIO = 0.15
SEED_TIMEOUT_SECONDS = 120.0


@dataclass(frozen=True)
class DemoPlan:
    providers: int = 8
    patients: int = 50
    appointments: int = 300
    days: int = 14  # calendar days, starting tomorrow (practice time)
    seed: int = 8
    prefix: str = "DEMO"  # ids: {prefix}-P-001, {prefix}-A-0001
    start_day: date | None = None  # None = tomorrow in the practice's zone
    workers: int = 4


@dataclass(frozen=True)
class ColumnHours:
    """A scheduler column's booking rules, as the simulator enforces them."""

    column_id: str
    opens: time
    closes: time
    interval: int
    workweek: str  # Sunday..Saturday, "1" = works
    max_per_slot: int

    def works_on(self, day: date) -> bool:
        return self.workweek[(day.weekday() + 1) % 7] == "1"

    def starts(self, day: date, duration: int) -> list[datetime]:
        """Every start on the slot grid where `duration` minutes fit inside the hours."""
        first = datetime.combine(day, self.opens)
        last = datetime.combine(day, self.closes) - timedelta(minutes=duration)
        found, at = [], first
        while at <= last:
            found.append(at)
            at += timedelta(minutes=self.interval)
        return found


@dataclass(frozen=True)
class ProviderSlot:
    ehr_id: str
    profile_id: str
    column: ColumnHours
    facility_ehr_id: str


@dataclass
class SeedResult:
    providers: list[ProviderSlot] = field(default_factory=list)
    patients: list[str] = field(default_factory=list)
    appointments: list[str] = field(default_factory=list)
    queued: int = 0
    estimated_wait_seconds: int = 0
    first_day: date | None = None
    last_day: date | None = None


def simulator_columns() -> dict[str, ColumnHours]:
    """The simulator's columns (hours, interval, workweek, slot capacity) from its masterfiles."""
    from local.amdsim.seed import seed_masterfiles  # noqa: PLC0415 - only with the simulator
    from local.amdsim.state import State  # noqa: PLC0415

    state = State()
    seed_masterfiles(state)
    return {
        str(col.id): ColumnHours(
            column_id=str(col.id),
            opens=time.fromisoformat(col.start),
            closes=time.fromisoformat(col.end),
            interval=col.interval,
            workweek=col.workweek,
            max_per_slot=col.max_per_slot,
        )
        for col in state.columns.values()
    }


def _by_name(options: list[dict[str, Any]], name: str) -> str:
    wanted = [o["amdId"] for o in options if (o.get("name") or "").strip().upper() == name]
    if len(wanted) != 1:
        raise RuntimeError(f"expected one AMD option named {name!r}, found {len(wanted)}")
    return str(wanted[0])


def confirm_mappings(api: AmdsyncApi, providers: int, first_profile: int = 0) -> list[ProviderSlot]:
    """Confirm provider, facility, type and reason mappings; returns the providers' slots.

    Providers `DR-{n}` take the AMD profiles (with exactly one column) in order, starting at
    `first_profile`; each EHR facility id is the AMD facility's code.
    """
    columns = simulator_columns()
    options = api.get("admin", "/mappings/providers")["amdOptions"]
    bookable = [o for o in options if len(o.get("columnIds") or []) == 1]
    chosen = bookable[first_profile : first_profile + providers]
    if len(chosen) < providers:
        raise RuntimeError(f"the simulator offers {len(bookable)} bookable providers")
    facilities = {
        str(f["amdId"]): f for f in api.get("admin", "/mappings/facilities")["amdOptions"]
    }
    column_facility = _column_facilities()
    slots = []
    for number, option in enumerate(chosen, start=first_profile + 1):
        ehr_id, column_id = f"DR-{number}", str(option["columnIds"][0])
        body = {"amdId": option["amdId"], "amdColumnId": column_id, "confirmed": True}
        api.put("admin", f"/mappings/providers/{ehr_id}", body)
        facility = facilities[column_facility[column_id]]
        slots.append(
            ProviderSlot(ehr_id, str(option["amdId"]), columns[column_id], facility["code"])
        )
    for code in sorted({slot.facility_ehr_id for slot in slots}):
        amd_id = next(k for k, f in facilities.items() if f["code"] == code)
        api.put("admin", f"/mappings/facilities/{code}", {"amdId": amd_id, "confirmed": True})
    types = api.get("admin", "/mappings/appointment-types")["amdOptions"]
    for ehr_type, (amd_name, _) in APPOINTMENT_TYPES.items():
        body = {"amdId": _by_name(types, amd_name), "confirmed": True}
        api.put("admin", f"/mappings/appointment-types/{ehr_type}", body)
    reasons = api.get("admin", "/mappings/reasons")["amdOptions"]
    for ehr_reason, amd_name in REASONS.items():
        body = {"amdId": _by_name(reasons, amd_name), "confirmed": True}
        api.put("admin", f"/mappings/reasons/{ehr_reason}", body)
    return slots


def _column_facilities() -> dict[str, str]:
    from local.amdsim.seed import seed_masterfiles  # noqa: PLC0415
    from local.amdsim.state import State  # noqa: PLC0415

    state = State()
    seed_masterfiles(state)
    return {str(c.id): str(c.facility_id) for c in state.columns.values()}


def demo_patient(number: int, rng: random.Random) -> dict[str, Any]:
    first = FIRST_NAMES[(number - 1) % len(FIRST_NAMES)]
    last = LAST_NAMES[((number - 1) // len(FIRST_NAMES)) % len(LAST_NAMES)]
    born = date(1950, 1, 1) + timedelta(days=rng.randrange(0, 55 * 365))
    return {
        "firstName": first,
        "lastName": last,
        "dateOfBirth": born.isoformat(),
        "sex": rng.choice("MFU"),
        "phone": f"55555501{number % 100:02d}",
        "address": {
            "line1": f"{number} Example Street",
            "city": "Testville",
            "state": "UT",
            "zip": "84101",
        },
        "ehrVersion": 1,
    }


Busy = dict[tuple[str, date], list[tuple[datetime, datetime]]]


def booked_in_amd(sim: SimAdmin, days: Iterable[date]) -> Busy:
    """What the simulator already has on those days, per column (so the seed never overlaps)."""
    busy: Busy = {}
    for day in days:
        for visit in sim.appointments(date=day.isoformat()):
            if visit.get("columnid") is None:
                continue
            start = datetime.fromisoformat(str(visit["startdatetime"]))
            end = start + timedelta(minutes=int(visit["duration"]))
            busy.setdefault((str(visit["columnid"]), day), []).append((start, end))
    return busy


def plan_appointments(
    slots: list[ProviderSlot],
    patients: list[str],
    days: list[date],
    count: int,
    busy: Busy,
    *,
    rng: random.Random,
    time_zone: str = DEFAULT_TIMEZONE,
) -> list[dict[str, Any]]:
    """`count` appointment bodies spread over providers and days, none overlapping."""
    places = [(s, d) for d in days for s in slots if s.column.works_on(d)]
    if not places or not patients:
        return []
    bodies: list[dict[str, Any]] = []
    misses = 0
    turn = 0
    while len(bodies) < count and misses < len(places):
        slot, day = places[turn % len(places)]
        turn += 1
        ehr_type = rng.choice(sorted(APPOINTMENT_TYPES))
        duration = APPOINTMENT_TYPES[ehr_type][1]
        taken = busy.setdefault((slot.column.column_id, day), [])
        free = [
            s
            for s in slot.column.starts(day, duration)
            if not any(
                s < end and b_start < s + timedelta(minutes=duration) for b_start, end in taken
            )
            and not any(s == b_start for b_start, _ in taken)
        ]
        if not free:
            misses += 1
            continue
        misses = 0
        start = rng.choice(free)
        taken.append((start, start + timedelta(minutes=duration)))
        bodies.append(
            {
                "patientId": patients[len(bodies) % len(patients)],
                "providerId": slot.ehr_id,
                "facilityId": slot.facility_ehr_id,
                "appointmentType": ehr_type,
                "start": start.isoformat(timespec="seconds"),
                "timeZone": time_zone,
                "durationMinutes": duration,
                "status": "SCHEDULED",
                "ehrVersion": 1,
            }
        )
    return bodies


def practice_zone(stack: LocalStack) -> str:
    for spec in stack.functions.values():
        zone = spec.environment.get("PRACTICE_TIMEZONE")
        if zone:
            return zone
    return DEFAULT_TIMEZONE


def api_for(stack: LocalStack) -> AmdsyncApi:
    return AmdsyncApi(stack.api_base_url, stack.tokens)


def seed_demo_data(
    stack: LocalStack,
    plan: DemoPlan | None = None,
    say: Callable[[str], None] | None = None,
) -> SeedResult:
    """Load the demo providers, facilities, patients and appointments into the stack."""
    plan = plan or DemoPlan()
    say = say or _print
    result = SeedResult()
    if stack.simulator is None or stack.http is None:
        say("seed skipped: it needs the simulator and the HTTP API")
        return result
    # The API's hosts start cold on the seed's first parallel calls: on a busy machine a cold
    # start alone can pass the client's default 30 s.
    api = dataclasses.replace(api_for(stack), timeout=SEED_TIMEOUT_SECONDS)
    sim = SimAdmin(stack.simulator.url)
    zone = practice_zone(stack)
    rng = random.Random(plan.seed)
    first = plan.start_day or datetime.now(ZoneInfo(zone)).date() + timedelta(days=1)
    days = [first + timedelta(days=n) for n in range(plan.days)]
    result.first_day, result.last_day = days[0], days[-1]
    result.providers = confirm_mappings(api, plan.providers)
    patient_ids = [f"{plan.prefix}-P-{n:03d}" for n in range(1, plan.patients + 1)]
    patient_bodies = [demo_patient(n, rng) for n in range(1, plan.patients + 1)]
    bodies = plan_appointments(
        result.providers,
        patient_ids,
        days,
        plan.appointments,
        booked_in_amd(sim, days),
        rng=rng,
        time_zone=zone,
    )
    with ThreadPoolExecutor(plan.workers, "seed") as pool:
        list(
            pool.map(
                lambda pair: api.put("ehr", f"/patients/{pair[0]}", pair[1], BACKFILL),
                zip(patient_ids, patient_bodies, strict=True),
            )
        )
        result.patients = patient_ids
        appointment_ids = [f"{plan.prefix}-A-{n:04d}" for n in range(1, len(bodies) + 1)]
        replies = list(
            pool.map(
                lambda pair: api.put("ehr", f"/appointments/{pair[0]}", pair[1], BACKFILL),
                zip(appointment_ids, bodies, strict=True),
            )
        )
    result.appointments = appointment_ids
    queued = [r for r in replies if r.get("queuePosition") is not None]
    result.queued = len(queued)
    _announce(result, say)
    say("seed watching the first syncs until their pace is steady, to estimate the rest …")
    result.estimated_wait_seconds = queue_eta(api, queued)
    return result


def queue_eta(
    api: AmdsyncApi,
    queued: list[dict[str, Any]],
    *,
    patience: float = PACE_PATIENCE_SECONDS,
    clock: Callable[[], float] = monotonic,
    pause: Callable[[float], None] = sleep,
) -> int:
    """The dashboard's ETA for the whole queue, read once the drain's pace is steady.

    The dashboard counts the workers' latest pace as well as AMD's budget. Right after the
    seed that pace is still the ramp (the seed loading the API, workers starting cold: measured
    up to half the steady rate), so the seed reads the dashboard after each sample of
    PACE_SAMPLE syncs and stops when two samples' seconds per job agree within STEADY_RATIO
    (or patience runs out). The replies' own estimate (budget only) if the dashboard cannot be
    read."""
    fallback = max((int(r.get("estimatedWaitSeconds") or 0) for r in queued), default=0)
    try:
        board = api.get("admin", "/sync/dashboard")
        deadline, mark, previous = clock() + patience, _synced(board), None
        while board["queue"]["depth"] and clock() < deadline:
            pause(PACE_POLL_SECONDS)
            board = api.get("admin", "/sync/dashboard")
            if _synced(board) - mark < PACE_SAMPLE:
                continue
            mark, pace = _synced(board), _per_job(board)
            if previous is not None and abs(pace - previous) <= STEADY_RATIO * previous:
                break
            previous = pace
        return int(board["queue"]["estimatedWaitSeconds"])
    except (ApiCallError, OSError, KeyError, TypeError, ValueError, ZeroDivisionError):
        return fallback


def _per_job(board: dict[str, Any]) -> float:
    return float(board["queue"]["estimatedWaitSeconds"]) / int(board["queue"]["depth"])


def _synced(board: dict[str, Any]) -> int:
    return int(board["appointments"]["synced"]) + int(board["patients"]["synced"])


def curl_examples(base_url: str, appointment_id: str | None) -> list[str]:
    """One working call per role; the tokens are the `export AMDSYNC_TOKEN_*` lines."""
    example = appointment_id or "DEMO-A-0001"
    auth = 'curl -s -H "Authorization: Bearer $AMDSYNC_TOKEN_{}"'
    return [
        f"{auth.format('ADMIN')} {base_url}/sync/dashboard  # admin",
        f"{auth.format('BILLING')} {base_url}/providers  # billing",
        f"{auth.format('PROVIDER')} {base_url}/appointments/{example}/sync-status  # provider",
        f'{auth.format("EHR")} "{base_url}/changes?limit=10"  # ehr',
    ]


def _announce(result: SeedResult, say: Callable[[str], None]) -> None:
    providers = ", ".join(
        f"{p.ehr_id}→prof{p.profile_id}/col{p.column.column_id}" for p in result.providers
    )
    say(f"seed mappings confirmed: providers {providers}; facilities, 3 types, 3 reasons")
    say(
        f"seed registered {len(result.patients)} patients and {len(result.appointments)} "
        f"appointments ({result.first_day} .. {result.last_day})"
    )


def seed_summary(result: SeedResult) -> str:
    """One line for the banner: what is queued and when it should be done."""
    minutes = max(1, round(result.estimated_wait_seconds / 60))
    return (
        f"{result.queued} appointment syncs queued; done in about {minutes} min "
        f"({result.estimated_wait_seconds} s; AMD allows "
        "12 Tier-2 calls a minute at peak, 120 off-peak); progress: GET /sync/dashboard"
    )


def _print(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()
