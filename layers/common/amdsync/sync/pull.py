"""Pull: bring AMD-side changes back (GETUPDATEDVISITS from AMD's own watermark, PROTOCOL §3.14).

One run holds a lease and works in two phases. Fetch (only when no window is stored): read the
whole window (the first run bootstraps from GETDATEVISITS day by day), stop if the mass-change
guard trips, follow moved visits, and store the window in pieces with a checkpoint. A window AMD
answers with ids only (> 1,000 visits) is read over several runs, one feed call per turn of
AMD's once-a-minute feed, from ids kept in the checkpoint (pull_fetch.py); every feed call
waits only if its turn fits the run's rate wait and remaining time.
Apply: each piece's visits idempotently (merge with our record, change
feed, conflicts, unlinked visits, push jobs for EHR-side changes still on their way), the
checkpoint saved after each piece. A run given a deadline (the Lambda context's remaining time)
stops cleanly between pieces with a margin to spare; the next run resumes at the checkpoint
without reading AMD's feed again (once a minute per office key, SPEC §9.3). Only after the last
piece does the watermark move to the reply's `servertime`. A crash repeats at most one piece,
and a repeated piece publishes nothing twice (pull_piece.py: batched reads and writes, the
change feed once per visit and piece).

Modules: pull.py (this: lease, window, checkpoints, watermark), pull_fetch.py (reading and
storing the window), pull_piece.py (applying a piece), pull_types.py (summary and options).
"""

from __future__ import annotations

from datetime import timedelta

from amdsync.domain.pulls import CompletedPull, PullCheckpoint
from amdsync.sync.context import SyncContext
from amdsync.sync.failures import describe
from amdsync.sync.journal import Journal, Operation, new_id
from amdsync.sync.pull_fetch import WindowFetch, feed_refusal, upcoming_range, visit_from
from amdsync.sync.pull_piece import PieceApplier
from amdsync.sync.pull_types import COUNTERS, PullOptions, PullSummary, Remaining

__all__ = [
    "COUNTERS", "LEASE", "LEASE_SLACK_SECONDS", "PullOptions", "PullRun", "PullSummary",
    "Remaining", "upcoming_range",
]  # fmt: skip

LEASE = "pull"
# Beyond the holder's own deadline: its invocation is gone by then, so the lease is free.
LEASE_SLACK_SECONDS = 5


class PullRun:
    def __init__(self, ctx: SyncContext, options: PullOptions | None = None) -> None:
        self._ctx = ctx
        self._options = options or PullOptions()
        self._journal = Journal(ctx.logs, ctx.metrics, ctx.clock)

    def run(self, actor: str = "system", remaining: Remaining | None = None) -> PullSummary:
        """The whole window, or (with `remaining`) as much as fits before the deadline."""
        resuming = self._ctx.pull_windows.checkpoint() is not None
        too_soon = None if resuming else self._feed_too_soon(remaining)
        if too_soon is not None:
            return too_soon
        op = Operation("pull", self._ctx.practice, "pull", "from_amd", actor=actor)
        owner = new_id()
        now = self._ctx.clock.now()
        if not self._ctx.leases.acquire(LEASE, owner, now, now + self._lease_for(remaining)):
            return PullSummary(status="busy")
        calls_before = self._ctx.amd_calls.calls_made()
        try:
            summary = self._pull(op, remaining)
        except Exception as exc:
            failure = describe(exc)
            op.amd_calls = self._ctx.amd_calls.calls_made() - calls_before
            self._journal.finish(op, "error", failure.code, failure.message)
            raise
        finally:
            self._ctx.leases.release(LEASE, owner)
        summary.amd_calls = op.amd_calls = self._ctx.amd_calls.calls_made() - calls_before
        outcome = "error" if summary.status == "blocked" else "success"
        self._journal.finish(op, outcome, summary.error_code)  # type: ignore[arg-type]
        return summary

    def _lease_for(self, remaining: Remaining | None) -> timedelta:
        """As long as this run can possibly last (its function's timeout), plus a little."""
        seconds = remaining() if remaining is not None else self._options.lease_seconds
        return timedelta(seconds=max(seconds, 0.0) + LEASE_SLACK_SECONDS)

    def _feed_too_soon(self, remaining: Remaining | None) -> PullSummary | None:
        if self._ctx.watermark.get().value is None:
            return None  # the first pull reads day lists (GETDATEVISITS), not the feed
        return feed_refusal(self._ctx, self._options, remaining)

    def _out_of_time(self, remaining: Remaining | None) -> bool:
        return remaining is not None and remaining() < self._options.deadline_margin

    def _pull(self, op: Operation, remaining: Remaining | None) -> PullSummary:
        watermark = self._ctx.watermark.get()
        window = self._window(op, watermark.value, remaining)
        if isinstance(window, PullSummary):
            return window
        summary, checkpoint = self._apply_pieces(window, remaining)
        if not checkpoint.finished:
            return summary
        # Everything the window covers is stored: only now may the watermark move past it.
        if checkpoint.servertime is not None:
            completed = CompletedPull(read_at=checkpoint.started_at, summary=summary.reported())
            self._ctx.watermark.advance(
                checkpoint.servertime, self._ctx.clock.now(), watermark.version, completed
            )
        self._ctx.pull_windows.clear(checkpoint)
        self._ctx.metrics.count("PullSucceeded")
        return summary

    def _window(
        self, op: Operation, since: str | None, remaining: Remaining | None
    ) -> PullSummary | PullCheckpoint:
        """The stored window to resume, or a freshly fetched one (or why there is none)."""
        checkpoint = self._ctx.pull_windows.checkpoint()
        if checkpoint is not None and checkpoint.since != since:
            self._ctx.pull_windows.clear(checkpoint)  # read before the watermark last moved
            checkpoint = None
        fetch = WindowFetch(self._ctx, self._options)
        if checkpoint is not None:
            op.operation = "resume"
            self._ctx.metrics.count("PullResumed")
            # An overflow's ids still to resubmit: the next one, if the feed's turn fits.
            return fetch.read_overflow(checkpoint, remaining) if checkpoint.reading else checkpoint
        if self._out_of_time(remaining):
            return PullSummary(status="partial")
        return fetch.fetch(op, since, remaining)

    def _apply_pieces(
        self, checkpoint: PullCheckpoint, remaining: Remaining | None
    ) -> tuple[PullSummary, PullCheckpoint]:
        """Apply stored pieces from the checkpoint on, saving it after each, until done or
        the deadline is near (summary status `partial`)."""
        summary = PullSummary(servertime=checkpoint.servertime)
        for name, value in checkpoint.counts.items():
            if name in COUNTERS:
                setattr(summary, name, value)
        applier = PieceApplier(self._ctx, summary)
        while not checkpoint.finished:
            if self._out_of_time(remaining):
                summary.status = "partial"
                self._ctx.metrics.count("PullCheckpointed")
                break
            piece = [
                visit_from(v)
                for v in self._ctx.pull_windows.chunk(checkpoint.window_id, checkpoint.next_chunk)
            ]
            applier.apply(f"{checkpoint.window_id}#{checkpoint.next_chunk:06d}", piece)
            checkpoint = checkpoint.model_copy(
                update={"next_chunk": checkpoint.next_chunk + 1, "counts": summary.counts()}
            )
            self._ctx.pull_windows.save_checkpoint(checkpoint)
        return summary, checkpoint
