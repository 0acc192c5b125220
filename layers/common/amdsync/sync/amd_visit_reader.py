"""AMD visit rows (GETUPDATEDVISITS / GETDATEVISITS) -> the sync's `AmdAppointment`.

Visit rows name the provider, facility and type by code or name; turning those into AMD ids
needs the cached lookups. A lookup AMD will not answer must not block the pull (issue: one
failing `getappttypes` stalled every pull and so every AMD-side change): the lookups are read
at most once per batch, and one that fails leaves that field unresolved (`None`, so it is not
compared) and flagged on the visit, instead of failing the batch.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from amdsync.amd.errors import AmdError
from amdsync.amd.lookups import Lookups
from amdsync.amd.models import Visit
from amdsync.amd.readers import local_datetime
from amdsync.sync.ports import AmdAppointment

# Extra visit fields requested from GETUPDATEDVISITS/GETDATEVISITS (ids beat names/codes).
PROFILE_ID, TYPE_ID, CHARGES, CONFIRMED = "profileid", "typeid", "charges", "confirmed"


def local_iso(value: datetime | None) -> str | None:
    return value.replace(tzinfo=None).isoformat(timespec="seconds") if value else None


class VisitReader:
    """Converts one batch of visits; each lookup is read at most once for the batch."""

    def __init__(self, lookups: Lookups, count: Callable[[str], None]) -> None:
        self._lookups = lookups
        self._count = count
        self._tables: dict[str, list[Any] | None] = {}

    def convert(self, visits: Sequence[Visit]) -> tuple[AmdAppointment, ...]:
        return tuple(self._one(v) for v in visits)

    def _one(self, visit: Visit) -> AmdAppointment:
        unresolved: list[str] = []
        type_id = visit.fields.get(TYPE_ID) or self._resolve(
            "appointment_types", visit.appointment_type, "name", unresolved
        )
        profile_id = visit.fields.get(PROFILE_ID) or self._resolve(
            "profiles", visit.profile, "code", unresolved
        )
        return AmdAppointment(
            visit_id=visit.id,
            patient_id=visit.patient_id,
            profile_id=profile_id,
            column_id=None,
            facility_id=self._resolve("facilities", visit.facility, "code", unresolved),
            type_id=type_id.split(",")[0].strip() if type_id else None,
            start=local_iso(visit.start),
            duration_minutes=visit.duration,
            status_code=visit.status,
            # ConfirmedAt is a sentinel date (1900) when unconfirmed, so parse, never bool().
            confirmed=local_datetime(visit.fields.get(CONFIRMED)) is not None,
            charges_posted=visit.fields.get(CHARGES) == "1",
            unresolved=tuple(unresolved),
        )

    def _resolve(
        self, kind: str, wanted: str | None, attribute: str, unresolved: list[str]
    ) -> str | None:
        if not wanted:
            return None
        table = self._table(kind)
        if table is None:
            unresolved.append(kind)
            return None
        key = wanted.strip().upper()
        return next(
            (i.id for i in table if (getattr(i, attribute) or "").strip().upper() == key), None
        )

    def _table(self, kind: str) -> list[Any] | None:
        if kind not in self._tables:
            try:
                self._tables[kind] = list(getattr(self._lookups, kind)())
            except AmdError:
                self._count("LookupUnavailable")
                self._tables[kind] = None
        return self._tables[kind]
