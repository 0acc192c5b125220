"""Deterministic, obviously synthetic demo data (no real people)."""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta

from .model import (
    EV_CREATE,
    ApptType,
    Column,
    Facility,
    Page,
    Patient,
    Profile,
    Reason,
    Visit,
)
from .state import State

CODE_WORDS = [
    "ALPHA", "BRAVO", "CHARLIE", "DELTA", "ECHO", "FOXTROT", "GOLF", "HOTEL", "INDIA",
    "JULIET", "KILO", "LIMA", "MIKE", "NOVEMBER", "OSCAR", "PAPA", "QUEBEC", "ROMEO",
    "SIERRA", "TANGO", "UNIFORM", "VICTOR", "WHISKEY", "XRAY", "YANKEE", "ZULU",
]  # fmt: skip
SURNAMES = [
    "TESTER", "SAMPLE", "DUMMY", "MOCKUP", "STUBBS", "FIXTURE", "EXAMPLE", "PLACEHOLDER",
    "SYNTHETIC", "FAKERSON", "DEMOLY", "PROTOTYPE", "SANDBOX", "STAGING", "FAUXMAN",
    "TESTCASE", "MOCKSON", "SIMULANT", "ZEROVAL", "NULLMAN",
]  # fmt: skip
MIDDLES = ["RED", "ORANGE", "YELLOW", "GREEN", "BLUE", "INDIGO", "VIOLET", "GRAY", "TEAL"]
FACILITY_WORDS = ["NORTH", "SOUTH", "EAST", "WEST", "CENTRAL"]
APPT_TYPES = [
    (11, "THERAPY 50", 50, "BLUE", {}),
    (12, "INTAKE 60", 60, "GREEN", {}),
    (13, "MED MGMT 30", 30, "ORANGE", {}),
    (14, "FAMILY THERAPY 50", 50, "PURPLE", {}),
    (15, "GROUP 90", 90, "TEAL", {"group": True}),
    (16, "TELEHEALTH 50", 50, "MINT", {"telemedicine": True}),
    (17, "CRISIS 60", 60, "RED", {}),
    (18, "OLD SESSION [DELETED]", 45, "GRAY", {"hide": True}),
]
CANCEL_REASONS = [
    (21, "PATIENT CANCELLED", "C"),
    (22, "PROVIDER CANCELLED", "C"),
    (23, "WEATHER", "C"),
    (24, "RESCHEDULED BY OFFICE", "C"),
    (25, "INSURANCE ISSUE", "C"),
    (31, "NO SHOW", "N"),
    (32, "LATE ARRIVAL TURNED AWAY", "N"),
]
N_PROVIDERS = 22


def seed_masterfiles(state: State) -> None:
    for i, word in enumerate(FACILITY_WORDS, start=1):
        state.facilities[i] = Facility(
            id=i,
            code=f"TC{word[0]}",
            name=f"TEST CLINIC {word}",
            npi=f"99999999{i:02d}",
            address1=f"{100 * i} EXAMPLE WAY",
            city="TESTVILLE",
            state="UT",
            zipcode=f"8400{i}",
            phone=f"(555) 010-00{i:02d}",
        )
    for i in range(N_PROVIDERS):
        word = CODE_WORDS[i]
        pid = 101 + i
        state.profiles[pid] = Profile(
            id=pid,
            code=f"P{word[:4]}",
            name=f"PROVIDER,{word}",
            provider_id=501 + i,
            email=f"provider.{word.lower()}@example.invalid",
        )
        state.columns[201 + i] = Column(
            id=201 + i,
            name=f"{word} ROOM",
            profile_id=pid,
            facility_id=1 + i % len(FACILITY_WORDS),
            start="07:00" if i % 4 == 0 else "08:00",
            end="19:00" if i % 4 == 0 else "17:00",
            interval=15,
            workweek="0111111" if i % 7 == 3 else "0111110",
            max_per_slot=4 if i % 10 == 9 else 1,
        )
    state.pages[1] = Page(1, "MAIN", [c for c in state.columns if c % 2 == 1])
    state.pages[2] = Page(2, "ANNEX", [c for c in state.columns if c % 2 == 0])
    for tid, name, duration, color, extra in APPT_TYPES:
        state.appt_types[tid] = ApptType(tid, name, duration, color, **extra)
    for rid, name, kind in CANCEL_REASONS:
        state.reasons[rid] = Reason(rid, name, kind)
    state.confirm_methods = {1: "PHONE", 2: "EMAIL", 11: "TEXT MESSAGE"}


def _fake_patient(rng: random.Random, pid: int, index: int, profile_id: int) -> Patient:
    last = SURNAMES[index % len(SURNAMES)]
    first = CODE_WORDS[(index // len(SURNAMES)) % len(CODE_WORDS)]
    cycle = index // (len(SURNAMES) * len(CODE_WORDS))
    name = f"{last},{first}" + (f" {MIDDLES[(cycle - 1) % len(MIDDLES)]}" if cycle else "")
    if cycle > len(MIDDLES):
        name += f" {cycle}"
    dob = date(1950, 1, 1) + timedelta(days=rng.randrange(0, 60 * 365))
    return Patient(
        id=pid,
        name=name,
        dob=dob,
        sex=rng.choice("MFU"),
        chart=str(pid),
        profile_id=profile_id,
        additionalmrn="",
        address={
            "address1": "",
            "address2": f"{rng.randrange(1, 999)} SAMPLE STREET",
            "city": "TESTVILLE",
            "state": "UT",
            "zip": f"840{rng.randrange(10, 99)}",
        },
        contactinfo={
            "homephone": f"(555) 01{rng.randrange(0, 10)}-{rng.randrange(0, 10000):04d}",
            "email": f"{first.lower()}.{last.lower()}{pid}@example.invalid",
        },
    )


def seed_patients(state: State, rng: random.Random, count: int, instant: datetime) -> None:
    profiles = sorted(state.profiles)
    for index in range(count):
        pid = state.new_patient_id()
        patient = _fake_patient(rng, pid, index, rng.choice(profiles))
        patient.created_at = patient.changed_at = instant
        patient.events.append((instant, EV_CREATE))
        state.patients[pid] = patient


def _slot_for(rng: random.Random, col: Column, day: date, duration: int) -> datetime | None:
    if col.workweek[(day.weekday() + 1) % 7] != "1":
        return None
    open_h, open_m = map(int, col.start.split(":"))
    close_h, close_m = map(int, col.end.split(":"))
    first = datetime.combine(day, time(open_h, open_m))
    last = datetime.combine(day, time(close_h, close_m)) - timedelta(minutes=duration)
    slots = int((last - first).total_seconds() // 60 // col.interval)
    if slots < 0:
        return None
    return first + timedelta(minutes=col.interval * rng.randrange(0, slots + 1))


def seed_appointments(
    state: State, rng: random.Random, count: int, today: date, instant: datetime
) -> int:
    """Book `count` non-overlapping appointments from 5 days back to 20 days ahead."""
    patients = sorted(state.patients)
    columns = sorted(state.columns)
    types = [t for t in state.appt_types.values() if not t.hide and not t.group]
    taken: dict[tuple[int, date], list[tuple[datetime, datetime]]] = {}
    made = 0
    attempts = 0
    while made < count and patients and attempts < count * 40:
        attempts += 1
        col = state.columns[rng.choice(columns)]
        appt_type = rng.choice(types)
        day = today + timedelta(days=rng.randrange(-5, 21))
        start = _slot_for(rng, col, day, appt_type.duration)
        if start is None:
            continue
        end = start + timedelta(minutes=appt_type.duration)
        busy = taken.setdefault((col.id, day), [])
        if any(start < b_end and b_start < end for b_start, b_end in busy):
            continue
        busy.append((start, end))
        status = 0
        if day < today:
            status = rng.choice([3, 3, 3, 10, 12])
        visit = Visit(
            id=state.new_visit_id(),
            patient_id=rng.choice(patients),
            profile_id=col.profile_id,
            start=start,
            duration=appt_type.duration,
            column_id=col.id,
            facility_id=col.facility_id,
            status=status,
            type_ids=[appt_type.id],
            color=appt_type.color,
        )
        visit.record(instant, EV_CREATE, "SEED")
        state.visits[visit.id] = visit
        made += 1
    return made


def seed_all(
    state: State, *, seed: int, patients: int, appointments: int, today: date, instant: datetime
) -> dict[str, int]:
    state.clear()
    rng = random.Random(seed)
    seed_masterfiles(state)
    seed_patients(state, rng, patients, instant)
    made = seed_appointments(state, rng, appointments, today, instant)
    return {"seed": seed, "patients": patients, "appointments": made}
