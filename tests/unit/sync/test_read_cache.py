"""The invocation's read-through caches: each item read once, writes never read back stale."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from amdsync.domain.concurrency import StaleWriteError, Versioned
from amdsync.domain.mappings import Mapping, MappingKind
from amdsync.domain.settings import Settings
from amdsync.sync.read_cache import CachedMappings, CachedSettings
from tests.fakes.admin import FakeMappings, FakeSettings


class Reads:
    """A store proxy counting the calls of each method."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.calls: Counter[str] = Counter()

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.inner, name)

        def counted(*args: Any, **kwargs: Any) -> Any:
            self.calls[name] += 1
            return method(*args, **kwargs)

        return counted


def facility(amd_id: str, ehr_id: str = "MAIN") -> Mapping:
    return Mapping(kind=MappingKind.FACILITIES, ehr_id=ehr_id, amd_id=amd_id, confirmed=True)


@pytest.fixture
def mappings() -> Reads:
    store = FakeMappings()
    store.put(facility("11"))
    store.put(facility("12", "ANNEX"))
    return Reads(store)


def test_a_kind_is_read_once_for_all_its_gets_and_lists(mappings: Reads) -> None:
    cached = CachedMappings(mappings)
    for _ in range(3):
        assert cached.get(MappingKind.FACILITIES, "MAIN") == facility("11")
        assert cached.get(MappingKind.FACILITIES, "ANNEX") == facility("12", "ANNEX")
        assert cached.get(MappingKind.FACILITIES, "NOWHERE") is None
        assert {m.amd_id for m in cached.list(MappingKind.FACILITIES)} == {"11", "12"}
    assert cached.get(MappingKind.PROVIDERS, "DR-1") is None
    assert (mappings.calls["list"], mappings.calls["get"]) == (2, 0)


def test_a_put_through_the_cache_is_read_back_fresh(mappings: Reads) -> None:
    cached = CachedMappings(mappings)
    cached.get(MappingKind.FACILITIES, "MAIN")
    cached.list(MappingKind.FACILITIES)
    cached.put(facility("19"))
    assert cached.get(MappingKind.FACILITIES, "MAIN") == facility("19")
    assert facility("19") in cached.list(MappingKind.FACILITIES)


def test_settings_are_read_once_until_saved_through_the_cache() -> None:
    store = Reads(FakeSettings())
    cached = CachedSettings(store)
    first = cached.get()
    assert cached.get() is first and store.calls["get"] == 1
    changed = first.value.model_copy(update={"auto_sync_appointments": False})
    version = cached.save(changed, first.version)
    assert cached.get() == Versioned(changed, version)
    assert store.calls["get"] == 2


def test_a_stale_save_is_decided_again_on_fresh_settings() -> None:
    store = FakeSettings()
    cached = CachedSettings(store)
    held = cached.get()
    store.save(Settings(auto_sync_appointments=False), held.version)  # another writer
    with pytest.raises(StaleWriteError):
        cached.save(held.value, held.version)
    fresh = cached.get()
    assert fresh.version == held.version + 1 and not fresh.value.auto_sync_appointments
