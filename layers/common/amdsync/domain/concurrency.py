"""Optimistic-concurrency outcomes that any repository may report, so use cases can react to
them without knowing which database is underneath."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar


class StaleWriteError(Exception):
    """Someone else wrote the item since it was read; re-read and decide again."""


class VersionReusedError(Exception):
    """The EHR sent a version number it already used, with different content (SPEC §9.1).

    Accepting it would be silent loss: the queue deduplicates by version, so the new content
    would never be synced. The EHR must send a higher `ehrVersion`.
    """

    def __init__(self, entity_id: str) -> None:
        super().__init__(entity_id)
        self.entity_id = entity_id


class AlreadyExistsError(Exception):
    """A create-only write found the item already there."""


class BadPosition(ValueError):
    """A page position a repository did not hand out (or one for another query): the API
    answers 400 BAD_CURSOR."""


T = TypeVar("T")


@dataclass(frozen=True)
class Versioned(Generic[T]):
    """A stored value with the version to pass back when saving it."""

    value: T
    version: int
