"""Cached lookups: profiles, providers, facilities, appointment types, reasons (SPEC §6).

Two levels: a per-process memo and the shared `LookupCache` (DynamoDB, 1 h TTL). Finding an
id that is not in the cached list invalidates it and re-reads once, so a provider added in
AMD an hour ago is not reported as unknown.
"""

from __future__ import annotations

import string
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar

from pydantic import BaseModel

from amdsync.amd.client import AmdClient
from amdsync.amd.envelope import Reply, attr, child
from amdsync.amd.models import AppointmentType, Facility, Profile, Provider, Reason, SchedulerSetup
from amdsync.amd.ports import Clock, LookupCache, MetricsSink, NullMetrics
from amdsync.amd.readers import (
    read_appointment_types,
    read_facilities,
    read_profiles,
    read_providers,
    read_reasons,
    read_scheduler_setup,
)

M = TypeVar("M", bound=BaseModel)
Rows = list[dict[str, Any]]
# Lookups other than patient/resp-party/carrier ignore `page` (§6): narrow by prefix instead.
_PREFIXES = string.ascii_uppercase + string.digits


class Lookups:
    def __init__(
        self,
        client: AmdClient,
        cache: LookupCache,
        scope: str,
        clock: Clock,
        *,
        ttl: timedelta = timedelta(hours=1),
        metrics: MetricsSink | None = None,
    ) -> None:
        self._client = client
        self._cache = cache
        self._scope = scope
        self._clock = clock
        self._ttl = ttl
        self._metrics = metrics or NullMetrics()
        self._memo: dict[str, tuple[Rows, datetime]] = {}

    # --- lists --------------------------------------------------------------------------------
    def profiles(self) -> list[Profile]:
        return self._list("profiles", Profile, self._fetch_profiles)

    def providers(self) -> list[Provider]:
        return self._list("providers", Provider, self._fetch_providers)

    def facilities(self) -> list[Facility]:
        return self._list("facilities", Facility, self._fetch_facilities)

    def appointment_types(self) -> list[AppointmentType]:
        return self._list("appointment_types", AppointmentType, self._fetch_types)

    def reasons(self) -> list[Reason]:
        return self._list("reasons", Reason, self._fetch_reasons)

    def scheduler_setup(self) -> SchedulerSetup:
        rows = self._rows("scheduler_setup", self._fetch_setup)
        return SchedulerSetup.model_validate(rows[0]) if rows else SchedulerSetup()

    # --- find by id, invalidating on a miss ---------------------------------------------------
    def find_profile(self, profile_id: str) -> Profile | None:
        return self._find("profiles", Profile, self._fetch_profiles, profile_id)

    def find_facility(self, facility_id: str) -> Facility | None:
        return self._find("facilities", Facility, self._fetch_facilities, facility_id)

    def find_appointment_type(self, type_id: str) -> AppointmentType | None:
        return self._find("appointment_types", AppointmentType, self._fetch_types, type_id)

    def invalidate(self, kind: str) -> None:
        self._memo.pop(kind, None)
        self._cache.invalidate(self._scope, kind)

    # --- cache mechanics ----------------------------------------------------------------------
    def _list(self, kind: str, model: type[M], fetch: Callable[[], Rows]) -> list[M]:
        return [model.model_validate(r) for r in self._rows(kind, fetch)]

    def _find(self, kind: str, model: type[M], fetch: Callable[[], Rows], wanted: str) -> M | None:
        for attempt in range(2):
            for row in self._rows(kind, fetch):
                if str(row.get("id")) == wanted:
                    return model.model_validate(row)
            if attempt == 0:
                self._metrics.count("LookupInvalidations")
                self.invalidate(kind)
        return None

    def _rows(self, kind: str, fetch: Callable[[], Rows]) -> Rows:
        now = self._clock.now()
        memo = self._memo.get(kind)
        if memo is not None and memo[1] > now:
            self._metrics.count("LookupCacheHits")
            return memo[0]
        shared = self._cache.get(self._scope, kind, now)
        if shared is not None:
            self._metrics.count("LookupCacheHits")
            self._memo[kind] = (shared, now + self._ttl)
            return shared
        self._metrics.count("LookupCacheMisses")
        rows = fetch()
        expires = now + self._ttl
        self._cache.put(self._scope, kind, rows, expires)
        self._memo[kind] = (rows, expires)
        return rows

    # --- AMD reads ----------------------------------------------------------------------------
    def _fetch_profiles(self) -> Rows:
        return self._narrowed("lookupprofile", "profilelist", "name", read_profiles)

    def _fetch_providers(self) -> Rows:
        return self._narrowed("lookupprovider", "providerlist", "name", read_providers)

    def _fetch_facilities(self) -> Rows:
        return self._narrowed("lookupfacility", "facilitylist", "code", read_facilities, "lookup")

    def _fetch_types(self) -> Rows:
        reply = self._client.xmlrpc("getappttypes", "masterfiles", None, {"appttype": ""})
        return _dump(read_appointment_types(reply))

    def _fetch_reasons(self) -> Rows:
        return _dump(read_reasons(self._client.xmlrpc("selectcancelreasons", "masterfiles")))

    def _fetch_setup(self) -> Rows:
        reply = self._client.xmlrpc("getschedulersetup", "masterfiles")
        return [read_scheduler_setup(reply).model_dump(mode="json")]

    def _narrowed(
        self,
        action: str,
        list_name: str,
        criterion: str,
        read: Callable[[Reply], list[Any]],
        cls: str = "api",
    ) -> Rows:
        """One call, or, when AMD reports more items than one 50-row page, one per prefix."""
        reply = self._lookup(action, cls, criterion, "")
        found = {item.id: item for item in read(reply)}
        total = _item_count(reply, list_name)
        if total is not None and total > len(found):
            for prefix in _PREFIXES:
                found.update((i.id, i) for i in read(self._lookup(action, cls, criterion, prefix)))
        return _dump(list(found.values()))

    def _lookup(self, action: str, cls: str, criterion: str, value: str) -> Reply:
        attrs = {"exactmatch": "-1", criterion: value}
        return self._client.xmlrpc(action, cls, attrs)


def _item_count(reply: Reply, list_name: str) -> int | None:
    holder = child(reply.results, list_name)
    raw = attr(holder, "itemcount") if isinstance(holder, dict) else None
    return int(raw) if raw and raw.isdigit() else None


def _dump(items: list[Any]) -> Rows:
    return [i.model_dump(mode="json") for i in items]
