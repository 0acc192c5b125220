"""Pulls in pieces (SPEC §9.3): a manual pull request's state, and the checkpoint of a change
window being applied across Lambda invocations."""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, Field

from amdsync.domain.base import DomainModel

PullState = Literal["queued", "running", "done", "failed"]


class PullRequest(DomainModel):
    """`POST /appointments/pull-updates` -> a pull the worker runs; its summary once done."""

    pull_id: str = Field(min_length=1, max_length=64)
    state: PullState = "queued"
    requested_at: AwareDatetime
    actor: str = Field(max_length=128)
    finished_at: AwareDatetime | None = None
    # PullSummary's counts (updated, created, cancelled, conflicts, charges, unlinked) + status.
    summary: dict[str, int] | None = None
    status: str | None = None
    error_code: str | None = None


class CompletedPull(DomainModel):
    """The last pull that moved the watermark: when it read its window from AMD, and its
    summary. A manual pull requested before that read is answered by it (sync/manual_pull.py)."""

    read_at: AwareDatetime
    summary: dict[str, int] = Field(default_factory=dict)


class PullCheckpoint(DomainModel):
    """A change window being read or applied. Reading (an overflow reply, PROTOCOL §3.14): its
    ids stored in `id_chunks` resubmissions of ≤ 500, `next_id_chunk` the first not yet sent,
    one feed call each. Applying: stored in `chunks` pieces; `next_chunk` is the first piece not
    yet applied. The watermark moves to `servertime` only after the last piece."""

    window_id: str = Field(min_length=1, max_length=64)
    # The watermark the window was read from (None: the first pull's day-by-day bootstrap).
    since: str | None
    servertime: str | None
    chunks: int = Field(ge=0)
    next_chunk: int = Field(default=0, ge=0)
    # The summary so far (PullSummary's counters), carried from one invocation to the next.
    counts: dict[str, int] = Field(default_factory=dict)
    started_at: AwareDatetime
    id_chunks: int = Field(default=0, ge=0)
    next_id_chunk: int = Field(default=0, ge=0)

    @property
    def reading(self) -> bool:
        """Overflow ids still to resubmit: the window is not yet stored in pieces."""
        return self.next_id_chunk < self.id_chunks

    @property
    def finished(self) -> bool:
        return not self.reading and self.next_chunk >= self.chunks
