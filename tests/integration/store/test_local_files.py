"""File-backed ports used by the CLI without AWS: private files, sharing across processes."""

import multiprocessing
import stat
from datetime import UTC, datetime, timedelta

from amdsync.domain.pacing import ClockOffset
from amdsync.domain.token_keys import TokenOwner
from amdsync.store.local_files import FileLookupCache, FileRateBuckets, FileTokenCache

NOW = datetime.now(UTC)
OWNER = TokenOwner(login_url="https://partner.test/login", office_key="999999", username="DEMO")


def test_token_file_is_private_and_expires_with_the_token(tmp_path):
    path = tmp_path / "state" / "token.json"
    cache = FileTokenCache(path)
    cache.save(
        OWNER,
        token="TOKEN-x",
        webserver="https://w/processrequest/a/APP",
        issued_at=NOW,
        expires_at=NOW + timedelta(hours=1),
    )
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    loaded = FileTokenCache(path).load(OWNER)
    assert loaded is not None and loaded.token == "TOKEN-x"
    later = FileTokenCache(path, now=lambda: NOW + timedelta(hours=2))
    assert later.load(OWNER) is None
    assert "TOKEN-x" not in path.read_text()


def test_file_lease_and_discard(tmp_path):
    cache = FileTokenCache(tmp_path / "t.json")
    assert cache.try_lease(OWNER, "a", NOW, NOW + timedelta(seconds=30))
    assert not cache.try_lease(OWNER, "b", NOW, NOW + timedelta(seconds=30))
    cache.release_lease(OWNER, "a")
    assert cache.try_lease(OWNER, "b", NOW, NOW + timedelta(seconds=30))
    expiry = NOW + timedelta(hours=1)
    cache.save(OWNER, token="T1", webserver="w", issued_at=NOW, expires_at=expiry)
    cache.discard(OWNER, "T0")
    assert cache.load(OWNER) is not None
    cache.discard(OWNER, "T1")
    assert cache.load(OWNER) is None


def _take_many(path, n, queue):
    buckets = FileRateBuckets(path)
    now = NOW.timestamp()
    got = sum(buckets.advance("k", {"T2": 5.0}, now + step * 0.1)[0] for step in range(n))
    queue.put(got)


def test_pacing_item_is_shared_by_processes(tmp_path):
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
    # Four processes, each trying six times within 0.6 s of a 5 s spacing: one call in total.
    assert sum(queue.get() for _ in procs) == 1
    buckets = FileRateBuckets(path)
    assert buckets.state("k").arrivals["T2"] > NOW.timestamp()
    buckets.hold("k", ["T2"], NOW.timestamp() + 62)
    assert not buckets.advance("k", {"T2": 5.0}, NOW.timestamp() + 61)[0]
    estimate = ClockOffset(-1.0, 1.0, NOW.timestamp())
    assert buckets.advance("k", {"T2": 5.0}, NOW.timestamp() + 62, estimate)[0]
    assert FileRateBuckets(path).state("k").clock == estimate
    buckets.count("k", "2025-03-14T18:00", ["T2", "FEED"], NOW + timedelta(minutes=3))
    buckets.count("k", "2025-03-14T18:00", ["T2"], NOW + timedelta(minutes=3))
    assert buckets.used("k", "2025-03-14T18:00") == {"T2": 2, "FEED": 1}


def test_lookup_file_cache(tmp_path):
    cache = FileLookupCache(tmp_path / "l.json")
    cache.put("k", "profiles", [{"id": "1"}], NOW + timedelta(hours=1))
    assert cache.get("k", "profiles", NOW) == [{"id": "1"}]
    assert cache.get("k", "profiles", NOW + timedelta(hours=2)) is None
    cache.invalidate("k", "profiles")
    assert cache.get("k", "profiles", NOW) is None
