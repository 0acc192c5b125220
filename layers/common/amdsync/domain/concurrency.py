"""Optimistic-concurrency outcomes that any repository may report, so use cases can react to
them without knowing which database is underneath."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar


class StaleWriteError(Exception):
    """Someone else wrote the item since it was read; re-read and decide again."""


class AlreadyExistsError(Exception):
    """A create-only write found the item already there."""


T = TypeVar("T")


@dataclass(frozen=True)
class Versioned(Generic[T]):
    """A stored value with the version to pass back when saving it."""

    value: T
    version: int
