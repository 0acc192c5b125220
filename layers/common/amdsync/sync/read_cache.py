"""Read-through caches for one worker invocation (issue 15: DynamoDB requests per sync).

Every job reads the practice's settings and the mappings its appointment names; creating one
appointment read nine mapping items (three per target resolution). An invocation's context
holds these caches, so a batch of jobs reads the settings once and each mapping kind it uses
once. They live as
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
    """A kind is read whole (one query) on its first use: a batch names many providers, and a
    practice's mappings of one kind are a few dozen small items, one read unit or two."""

    def __init__(self, inner: MappingStore) -> None:
        self._inner = inner
        self._kinds: dict[MappingKind, dict[str, Mapping]] = {}

    def get(self, kind: MappingKind, ehr_id: str) -> Mapping | None:
        return self._of(kind).get(ehr_id)

    def put(self, mapping: Mapping) -> None:
        self._kinds.pop(mapping.kind, None)  # first: a failed put leaves nothing stale
        self._inner.put(mapping)

    def list(self, kind: MappingKind) -> list[Mapping]:
        return list(self._of(kind).values())

    def _of(self, kind: MappingKind) -> dict[str, Mapping]:
        if kind not in self._kinds:
            self._kinds[kind] = {m.ehr_id: m for m in self._inner.list(kind)}
        return self._kinds[kind]


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
