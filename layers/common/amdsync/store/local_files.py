"""File-backed token cache, pacing item and lookup cache for the operator CLI without AWS.

They implement the same `amdsync.amd.ports` protocols as the DynamoDB adapters, so repeated
CLI runs (and several CLI processes at once) share one login and one rate budget. Files are
created 0600 in a 0700 directory: the token file is as sensitive as a password. Every change
is a read-modify-write under an exclusive `flock`, written atomically (temp file + rename).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from amdsync.domain.pacing import ClockOffset, PaceState
from amdsync.domain.token_keys import TokenOwner, token_cache_key

_PRIVATE_FILE = 0o600
_PRIVATE_DIR = 0o700


class _LockedJson:
    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(mode=_PRIVATE_DIR, parents=True, exist_ok=True)
        self._lock_path = path.with_name(path.name + ".lock")

    @contextlib.contextmanager
    def edit(self) -> Iterator[dict[str, Any]]:
        fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, _PRIVATE_FILE)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            data = self._read()
            before = json.dumps(data, sort_keys=True)
            yield data
            if json.dumps(data, sort_keys=True) != before:
                self._write(data)
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def _read(self) -> dict[str, Any]:
        try:
            loaded = json.loads(self.path.read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError):
            return {}
        return loaded if isinstance(loaded, dict) else {}

    def _write(self, data: dict[str, Any]) -> None:
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".tmp-")
        try:
            os.fchmod(fd, _PRIVATE_FILE)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(data, handle)
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise


def _now_epoch() -> float:
    return datetime.now(UTC).timestamp()


@dataclass(frozen=True)
class FileToken:
    token: str = field(repr=False)
    webserver: str
    issued_at: datetime
    expires_at: datetime


class FileTokenCache:
    """Tokens disappear from the file once expired (checked on every access).

    `now` should be the same clock the token expiry was computed on (AMD's, in tests a
    simulated one); it defaults to the system clock.
    """

    def __init__(self, path: Path, now: Callable[[], datetime] | None = None) -> None:
        self._file = _LockedJson(path)
        self._now = now or (lambda: datetime.now(UTC))

    def load(self, owner: TokenOwner) -> FileToken | None:
        with self._file.edit() as data:
            _prune_tokens(data, self._now())
            entry = data.get("tokens", {}).get(token_cache_key(owner))
            if entry is None:
                return None
            return FileToken(
                token=entry["token"],
                webserver=entry["webserver"],
                issued_at=datetime.fromisoformat(entry["issuedAt"]),
                expires_at=datetime.fromisoformat(entry["expiresAt"]),
            )

    def save(
        self,
        owner: TokenOwner,
        *,
        token: str,
        webserver: str,
        issued_at: datetime,
        expires_at: datetime,
    ) -> None:
        with self._file.edit() as data:
            data.setdefault("tokens", {})[token_cache_key(owner)] = {
                "token": token,
                "webserver": webserver,
                "issuedAt": issued_at.isoformat(),
                "expiresAt": expires_at.isoformat(),
            }

    def discard(self, owner: TokenOwner, token: str) -> None:
        key = token_cache_key(owner)
        with self._file.edit() as data:
            tokens = data.get("tokens", {})
            if tokens.get(key, {}).get("token") == token:
                del tokens[key]

    def try_lease(self, owner: TokenOwner, holder: str, now: datetime, until: datetime) -> bool:
        key = token_cache_key(owner)
        with self._file.edit() as data:
            leases = data.setdefault("leases", {})
            held = leases.get(key)
            if held and held[0] != holder and held[1] > now.timestamp():
                return False
            leases[key] = [holder, until.timestamp()]
            return True

    def release_lease(self, owner: TokenOwner, holder: str) -> None:
        key = token_cache_key(owner)
        with self._file.edit() as data:
            leases = data.get("leases", {})
            if leases.get(key, [None])[0] == holder:
                del leases[key]


def _prune_tokens(data: dict[str, Any], now: datetime) -> None:
    tokens = data.get("tokens", {})
    for key in [k for k, v in tokens.items() if datetime.fromisoformat(v["expiresAt"]) <= now]:
        del tokens[key]


class FileRateBuckets:
    """The pacing item per office key in one file (flock stands in for the condition)."""

    def __init__(self, path: Path) -> None:
        self._file = _LockedJson(path)

    def advance(
        self,
        scope: str,
        spacing: Mapping[str, float],
        now: float,
        clock: ClockOffset | None = None,
    ) -> tuple[bool, PaceState]:
        with self._file.edit() as data:
            entry = data.setdefault("pace", {}).setdefault(scope, {})
            arrivals = entry.setdefault("arrivals", {})
            free = all(float(arrivals.get(name, now)) <= now for name in spacing)
            if free:
                for name, gap in spacing.items():
                    arrivals[name] = now + gap
                if clock is not None:
                    entry["clock"] = [clock.lo, clock.hi, clock.at]
            return free, _pace_state(entry)

    def hold(self, scope: str, budgets: Sequence[str], until: float) -> None:
        with self._file.edit() as data:
            arrivals = data.setdefault("pace", {}).setdefault(scope, {}).setdefault("arrivals", {})
            for name in budgets:
                arrivals[name] = max(float(arrivals.get(name, until)), until)

    def state(self, scope: str) -> PaceState:
        with self._file.edit() as data:
            return _pace_state(data.get("pace", {}).get(scope, {}))

    def count(self, scope: str, window: str, budgets: Sequence[str], expires_at: datetime) -> None:
        with self._file.edit() as data:
            entries = _prune_buckets(data).setdefault(scope, {})
            for name in budgets:
                key = f"{name}#{window}"
                used = entries.get(key, [0, 0])[0]
                entries[key] = [used + 1, expires_at.timestamp()]

    def used(self, scope: str, window: str) -> dict[str, int]:
        suffix = f"#{window}"
        with self._file.edit() as data:
            entries = data.get("buckets", {}).get(scope, {})
            return {
                key[: -len(suffix)]: int(value[0])
                for key, value in entries.items()
                if key.endswith(suffix)
            }


def _pace_state(entry: dict[str, Any]) -> PaceState:
    arrivals = {name: float(at) for name, at in entry.get("arrivals", {}).items()}
    clock = entry.get("clock")
    offset = ClockOffset(*map(float, clock)) if clock else None
    return PaceState(arrivals, offset)


def _prune_buckets(data: dict[str, Any]) -> dict[str, Any]:
    # Counters are display only; keep entries until well past their minute.
    now = _now_epoch()
    buckets: dict[str, Any] = data.setdefault("buckets", {})
    for entries in buckets.values():
        for name in [n for n, (_, exp) in entries.items() if exp < now - 3600]:
            del entries[name]
    return buckets


class FileLookupCache:
    def __init__(self, path: Path) -> None:
        self._file = _LockedJson(path)

    def get(self, scope: str, kind: str, now: datetime) -> list[dict[str, Any]] | None:
        with self._file.edit() as data:
            entry = data.get(scope, {}).get(kind)
            if not entry or entry["expiresAt"] <= now.timestamp():
                return None
            rows = entry["rows"]
            return rows if isinstance(rows, list) else None

    def put(self, scope: str, kind: str, rows: list[dict[str, Any]], expires_at: datetime) -> None:
        with self._file.edit() as data:
            data.setdefault(scope, {})[kind] = {"rows": rows, "expiresAt": expires_at.timestamp()}

    def invalidate(self, scope: str, kind: str) -> None:
        with self._file.edit() as data:
            data.get(scope, {}).pop(kind, None)
