"""All mutable simulator data behind one re-entrant lock."""

from __future__ import annotations

import threading
from collections import defaultdict
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from .model import (
    ApptType,
    Column,
    Facility,
    Page,
    Patient,
    Profile,
    Reason,
    Token,
    Visit,
)


def strip_prefix(value: str | int | None) -> int | None:
    """`pat1001`, `col_12`, `1001` -> int; None when there is no number."""
    if value is None:
        return None
    text = str(value).strip().lstrip("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_")
    return int(text) if text.isdigit() else None


class State:
    def __init__(self, tz: ZoneInfo | None = None, office_key: str = "999999") -> None:
        self.lock = threading.RLock()
        self.tz = tz or ZoneInfo("America/Denver")
        self.office_key = office_key
        self.clear()

    def clear(self) -> None:
        self.facilities: dict[int, Facility] = {}
        self.profiles: dict[int, Profile] = {}
        self.columns: dict[int, Column] = {}
        self.pages: dict[int, Page] = {}
        self.appt_types: dict[int, ApptType] = {}
        self.reasons: dict[int, Reason] = {}
        self.confirm_methods: dict[int, str] = {}
        self.patients: dict[int, Patient] = {}
        self.visits: dict[int, Visit] = {}
        self.next_patient_id = 1001
        self.next_visit_id = 5001
        self.tokens: dict[str, Token] = {}
        self.last_login: dict[tuple[str, str], datetime] = {}
        self.issued_servertimes: dict[str, set[str]] = defaultdict(set)

    # ---------------------------------------------------------------- ids

    def new_patient_id(self) -> int:
        pid = self.next_patient_id
        self.next_patient_id += 1
        return pid

    def new_visit_id(self) -> int:
        vid = self.next_visit_id
        self.next_visit_id += 1
        return vid

    # ---------------------------------------------------------------- queries

    def appointment(self, vid: int | None) -> Visit | None:
        visit = self.visits.get(vid) if vid is not None else None
        return visit if visit is not None and visit.is_appt else None

    def column_day(self, column_id: int, day: date, exclude: int | None = None) -> list[Visit]:
        return [
            v
            for v in self.visits.values()
            if v.is_appt
            and v.column_id == column_id
            and v.start.date() == day
            and v.active
            and v.id != exclude
        ]

    def patient_display(self, patient_id: int) -> tuple[str, str, str]:
        """(last, first, chart) for a patient id, blank when unknown."""
        patient = self.patients.get(patient_id)
        if patient is None:
            return "", "", ""
        last, first = patient.last_first
        return last, first, patient.chart

    def duplicate_appointments(self) -> list[list[int]]:
        groups: dict[tuple[int, int, datetime], list[int]] = defaultdict(list)
        for v in self.visits.values():
            if v.is_appt and v.active:
                groups[(v.patient_id, v.profile_id, v.start)].append(v.id)
        return [sorted(ids) for ids in groups.values() if len(ids) > 1]

    def duplicate_patients(self) -> list[list[int]]:
        groups: dict[tuple[str, date], list[int]] = defaultdict(list)
        for p in self.patients.values():
            groups[(p.name, p.dob)].append(p.id)
        return [sorted(ids) for ids in groups.values() if len(ids) > 1]

    def summary(self) -> dict[str, Any]:
        dup_appts = self.duplicate_appointments()
        dup_pats = self.duplicate_patients()
        return {
            "patients": len(self.patients),
            "appointments": sum(1 for v in self.visits.values() if v.is_appt),
            "visits": len(self.visits),
            "duplicate_appointments": sum(len(g) - 1 for g in dup_appts),
            "duplicate_appointment_groups": dup_appts,
            "duplicate_patients": sum(len(g) - 1 for g in dup_pats),
            "duplicate_patient_groups": dup_pats,
            "active_tokens": sum(1 for t in self.tokens.values() if not t.revoked),
        }
