"""File-backed ports used by the CLI without AWS: private files, sharing across processes."""

import multiprocessing
import stat
from datetime import UTC, datetime, timedelta

from amdsync.store.local_files import FileLookupCache, FileRateBuckets, FileTokenCache

NOW = datetime.now(UTC)


def test_token_file_is_private_and_expires_with_the_token(tmp_path):
    path = tmp_path / "state" / "token.json"
    cache = FileTokenCache(path)
    cache.save(
        "999999",
        token="TOKEN-x",
        webserver="https://w/processrequest/a/APP",
        issued_at=NOW,
        expires_at=NOW + timedelta(hours=1),
    )
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    loaded = FileTokenCache(path).load("999999")
    assert loaded is not None and loaded.token == "TOKEN-x"
    later = FileTokenCache(path, now=lambda: NOW + timedelta(hours=2))
    assert later.load("999999") is None
    assert "TOKEN-x" not in path.read_text()


def test_file_lease_and_discard(tmp_path):
    cache = FileTokenCache(tmp_path / "t.json")
    assert cache.try_lease("k", "a", NOW, NOW + timedelta(seconds=30))
    assert not cache.try_lease("k", "b", NOW, NOW + timedelta(seconds=30))
    cache.release_lease("k", "a")
    assert cache.try_lease("k", "b", NOW, NOW + timedelta(seconds=30))
    cache.save("k", token="T1", webserver="w", issued_at=NOW, expires_at=NOW + timedelta(hours=1))
    cache.discard("k", "T0")
    assert cache.load("k") is not None
    cache.discard("k", "T1")
    assert cache.load("k") is None


def _take_many(path, n, queue):
    buckets = FileRateBuckets(path)
    got = sum(
        buckets.try_take("k", "T2#w", cost=1, limit=12, expires_at=NOW + timedelta(minutes=3))
        for _ in range(n)
    )
    queue.put(got)


def test_rate_buckets_are_shared_by_processes(tmp_path):
    path = tmp_path / "rate.json"
    queue = multiprocessing.get_context("fork").Queue()
    procs = [
        multiprocessing.get_context("fork").Process(target=_take_many, args=(path, 6, queue))
        for _ in range(4)
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    assert sum(queue.get() for _ in procs) == 12
    buckets = FileRateBuckets(path)
    assert buckets.used("k", "T2#w") == 12
    buckets.give_back("k", "T2#w", cost=1)
    buckets.exhaust("k", "T2#w", limit=12, expires_at=NOW + timedelta(minutes=3))
    assert buckets.used("k", "T2#w") == 12


def test_lookup_file_cache(tmp_path):
    cache = FileLookupCache(tmp_path / "l.json")
    cache.put("k", "profiles", [{"id": "1"}], NOW + timedelta(hours=1))
    assert cache.get("k", "profiles", NOW) == [{"id": "1"}]
    assert cache.get("k", "profiles", NOW + timedelta(hours=2)) is None
    cache.invalidate("k", "profiles")
    assert cache.get("k", "profiles", NOW) is None
