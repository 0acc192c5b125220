"""Settings, mappings and conflicts, in memory."""

from __future__ import annotations

from typing import Any

from amdsync.domain.concurrency import StaleWriteError, Versioned
from amdsync.domain.mappings import Mapping, MappingKind
from amdsync.domain.review import ConflictRecord
from amdsync.domain.settings import Settings


class FakeSettings:
    """Defaults at version 0 until saved, like the DynamoDB adapter."""

    def __init__(self, settings: Settings | None = None) -> None:
        self._current = Versioned(settings or Settings(), 0)

    def get(self) -> Versioned[Settings]:
        return self._current

    def save(self, settings: Settings, expected_version: int) -> int:
        if expected_version != self._current.version:
            raise StaleWriteError("settings")
        self._current = Versioned(settings, expected_version + 1)
        return self._current.version

    def update(self, **changes: object) -> Settings:
        """Test helper: change some settings (validated) and save them."""
        changed = self._current.value.model_copy(update=changes)
        settings = Settings.model_validate(changed.model_dump())
        self.save(settings, self._current.version)
        return settings


class FakeMappings:
    def __init__(self) -> None:
        self.items: dict[tuple[MappingKind, str], Mapping] = {}

    def get(self, kind: MappingKind, ehr_id: str) -> Mapping | None:
        return self.items.get((kind, ehr_id))

    def put(self, mapping: Mapping) -> None:
        self.items[(mapping.kind, mapping.ehr_id)] = mapping

    def list(self, kind: MappingKind) -> list[Mapping]:
        return [m for (k, _), m in sorted(self.items.items()) if k is kind]

    def remove(self, kind: MappingKind, ehr_id: str) -> None:
        self.items.pop((kind, ehr_id), None)


class FakeConflicts:
    def __init__(self) -> None:
        self.items: dict[str, ConflictRecord] = {}
        self.history: list[ConflictRecord] = []

    def get(self, conflict_id: str) -> ConflictRecord | None:
        return self.items.get(conflict_id)

    def put(self, conflict: ConflictRecord) -> None:
        self.items[conflict.conflict_id] = conflict
        self.history.append(conflict)

    def page(
        self, state: str | None, position: dict[str, Any] | None, limit: int
    ) -> tuple[list[ConflictRecord], dict[str, Any] | None]:
        matching = sorted(self._in(state), key=lambda c: c.conflict_id)
        offset = int(position["o"]) if position else 0
        more = offset + limit < len(matching)
        return matching[offset : offset + limit], {"o": offset + limit} if more else None

    def open_count(self) -> int:
        return len(self._in("open"))

    def _in(self, state: str | None) -> list[ConflictRecord]:
        return [c for c in self.items.values() if state is None or c.state == state]

    def list(self, state: str | None = "open") -> list[ConflictRecord]:
        return self._in(state)
