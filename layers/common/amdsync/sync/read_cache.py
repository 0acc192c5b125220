"""Read-through caches for one worker invocation (issue 15: DynamoDB requests per sync).

Every job reads the practice's settings and the mappings its appointment names; creating one
appointment read nine mapping items (three per target resolution). An invocation's context
holds these caches, so a batch of jobs reads each mapping and the settings once. They live as
long as that context and never in the process: a mapping or setting an admin changes is in
effect from the next invocation, at most one worker timeout later (docs/decisions.md).
A write through a cache forgets what it held, so a context never reads its own writes stale.
"""

from __future__ import annotations

from amdsync.domain.concurrency import Versioned
from amdsync.domain.mappings import Mapping, MappingKind
from amdsync.domain.settings import Settings
from amdsync.sync.ports import MappingStore, SettingsStore


class CachedMappings:
    def __init__(self, inner: MappingStore) -> None:
        self._inner = inner
        self._items: dict[tuple[MappingKind, str], Mapping | None] = {}
        self._lists: dict[MappingKind, list[Mapping]] = {}

    def get(self, kind: MappingKind, ehr_id: str) -> Mapping | None:
        key = (kind, ehr_id)
        if key in self._items:
            return self._items[key]
        listed = self._lists.get(kind)
        if listed is not None:  # the whole kind is known already: no read for one of it
            found = next((m for m in listed if m.ehr_id == ehr_id), None)
        else:
            found = self._inner.get(kind, ehr_id)
        self._items[key] = found
        return found

    def put(self, mapping: Mapping) -> None:
        self._forget(mapping.kind, mapping.ehr_id)  # first: a failed put leaves nothing stale
        self._inner.put(mapping)

    def list(self, kind: MappingKind) -> list[Mapping]:
        if kind not in self._lists:
            self._lists[kind] = self._inner.list(kind)
        return list(self._lists[kind])

    def _forget(self, kind: MappingKind, ehr_id: str) -> None:
        self._items.pop((kind, ehr_id), None)
        self._lists.pop(kind, None)


class CachedSettings:
    def __init__(self, inner: SettingsStore) -> None:
        self._inner = inner
        self._held: Versioned[Settings] | None = None

    def get(self) -> Versioned[Settings]:
        if self._held is None:
            self._held = self._inner.get()
        return self._held

    def save(self, settings: Settings, expected_version: int) -> int:
        # Forgotten first: a stale version (StaleWriteError) is read afresh by the retry.
        self._held = None
        return self._inner.save(settings, expected_version)
