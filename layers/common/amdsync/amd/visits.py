"""Reading visits: one day, a date range, the change feed with overflow chunking, by id/ref."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, timedelta

from amdsync.amd.client import AmdClient
from amdsync.amd.envelope import element
from amdsync.amd.models import (
    ChangeSet,
    DateVisits,
    RefIdMatch,
    SchedulerAppt,
    UpdatedVisits,
    Visit,
)
from amdsync.amd.readers import (
    VISIT_TEMPLATE,
    read_date_visits,
    read_refid_matches,
    read_scheduler_appts,
    read_updated_visits,
)
from amdsync.domain.timefmt import ServerTime, format_amd_date

CHUNK = 500  # AMD's ceiling for a `visitlist` resubmission (§3.14, §7.11)


def _template() -> dict[str, object]:
    return {"visit": element(**VISIT_TEMPLATE)}


def _visitlist(ids: Sequence[str]) -> dict[str, object]:
    return {"visitlist": {"visit": [element(id=i) for i in ids]}}


def chunks(ids: Sequence[str], size: int = CHUNK) -> Iterable[Sequence[str]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


class VisitsApi:
    def __init__(self, client: AmdClient) -> None:
        self._client = client

    def on_date(self, day: date) -> DateVisits:
        """`getdatevisits` takes exactly one date (§7.6)."""
        reply = self._client.xmlrpc(
            "getdatevisits", "api", {"visitdate": format_amd_date(day)}, _template()
        )
        return read_date_visits(reply)

    def in_range(self, first: date, last: date) -> list[DateVisits]:
        """One Tier-2 call per day, first..last inclusive."""
        days = (first + timedelta(days=n) for n in range((last - first).days + 1))
        return [self.on_date(d) for d in days]

    def updated(
        self, datechanged: ServerTime | str, visit_ids: Sequence[str] | None = None
    ) -> UpdatedVisits:
        """One `getupdatedvisits` call; `datechanged` is echoed verbatim (§7.7)."""
        children = _template()
        if visit_ids:
            children.update(_visitlist(visit_ids))
        reply = self._client.xmlrpc(
            "getupdatedvisits",
            "api",
            # Untyped visits are skipped unless asked for (§7.9).
            {"datechanged": str(datechanged), "ignoreappttypes": "1"},
            children,
        )
        return read_updated_visits(reply)

    def changes_since(self, datechanged: ServerTime | str) -> ChangeSet:
        """Read a whole change window, resubmitting overflow ids in chunks of <=500 (§3.14)."""
        first = self.updated(datechanged)
        if not first.overflowed:
            return ChangeSet(servertime=first.servertime, visits=first.visits, calls=1)
        seen: dict[str, Visit] = {}
        marks: list[ServerTime] = []
        calls = 1
        for ids in chunks(first.overflow_ids):
            part = self.updated(datechanged, ids)
            calls += 1
            seen.update((v.id, v) for v in part.visits)
            if part.servertime is not None:
                marks.append(part.servertime)
        # Prefer the overflow reply's own watermark; else the earliest chunk's, so nothing
        # changed during the chunked read can fall behind the next watermark.
        mark = first.servertime or (min(marks) if marks else None)
        return ChangeSet(servertime=mark, visits=tuple(seen.values()), calls=calls)

    def by_ids(
        self, ids: Sequence[str], datechanged: ServerTime | str | None = None
    ) -> list[Visit]:
        """`getvisitsbyid`, chunked; an empty list is never sent (AMD faults on it, §3.15)."""
        out: list[Visit] = []
        for part in chunks(list(ids)):
            children = {**_template(), **_visitlist(part)}
            attrs = {"datechanged": str(datechanged)} if datechanged else None
            reply = self._client.xmlrpc("getvisitsbyid", "api", attrs, children)
            out.extend(read_updated_visits(reply).visits)
        return out

    def visit_ids_by_reference(self, refs: Sequence[str]) -> list[RefIdMatch]:
        """Unmatched references come back without an id: "not found", not an error (§3.13)."""
        wanted = [r for r in refs if r]
        if not wanted:
            return []
        children = {"visitlist": {"visit": [element(referenceid=r) for r in wanted]}}
        reply = self._client.xmlrpc("getvisitidbyrefid", "api", None, children)
        return read_refid_matches(reply)

    def scheduler_day(self, day: date, column_ids: Sequence[str]) -> list[SchedulerAppt]:
        """`getAppts` day view (Tier 2; reply shape UNCERTAIN, §3.9)."""
        attrs = {"date": format_amd_date(day), "columns": ",".join(column_ids), "view": "day"}
        reply = self._client.xmlrpc("getAppts", "scheduler", attrs)
        return read_scheduler_appts(reply)
