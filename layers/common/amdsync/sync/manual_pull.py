"""The pull button, asynchronous (SPEC §9.3): `request` records a pull and queues it (202
{pullId}); the worker runs it in pieces against its own deadline, waiting out AMD's
once-a-minute feed rule and a pull already running, and keeps the summary for
`GET /appointments/pull-updates/{pullId}`.

A pull that read AMD's changes after the button was pressed did what the button asks: while
waiting for the feed, the request is answered by that pull's summary. Without this, under
`syncFrequency: realtime` the scheduled pull takes the feed's turn the moment it comes, every
minute, and the button's pull never gets one."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from amdsync.amd.errors import RateLimited
from amdsync.domain.pulls import PullRequest
from amdsync.jobs import SyncJob
from amdsync.sync.context import SyncContext
from amdsync.sync.failures import describe
from amdsync.sync.journal import new_id
from amdsync.sync.pull import PullOptions, PullRun, PullSummary, Remaining

BUSY_RETRY_SECONDS = 5.0
RESUME_SECONDS = 1.0


@dataclass(frozen=True)
class PullStep:
    """What the worker does next with the pull's message: finished, or back in `wait` s."""

    finished: bool
    wait: float = 0.0


class ManualPulls:
    def __init__(
        self,
        ctx: SyncContext,
        options: PullOptions | None = None,
        on_blocked: Callable[[], None] | None = None,
    ) -> None:
        self._ctx = ctx
        self._options = options or PullOptions()
        # Tells the operators when the mass-change guard stops the pull: the same notice as a
        # blocked scheduled pull (compose.Services.notify_pull_blocked).
        self._on_blocked = on_blocked

    def request(self, actor: str) -> PullRequest:
        pull = PullRequest(pull_id=new_id()[:20], requested_at=self._ctx.clock.now(), actor=actor)
        self._ctx.pull_requests.create(pull)
        message = SyncJob(
            kind="pull", entityId=pull.pull_id, version=0, practice=self._ctx.practice
        )
        self._ctx.queue.enqueue([message])
        return pull

    def get(self, pull_id: str) -> PullRequest | None:
        return self._ctx.pull_requests.get(pull_id)

    def run(self, pull_id: str, remaining: Remaining | None = None) -> PullStep:
        pull = self._ctx.pull_requests.get(pull_id)
        if pull is None or pull.state in ("done", "failed"):
            return PullStep(finished=True)  # unknown, or a repeated delivery of a finished one
        if pull.state == "queued":
            pull = pull.model_copy(update={"state": "running"})
            self._ctx.pull_requests.save(pull)
        try:
            summary = PullRun(self._ctx, self._options).run(pull.actor, remaining)
        except RateLimited as exc:
            return PullStep(finished=False, wait=max(RESUME_SECONDS, exc.retry_after))
        except Exception as exc:
            failure = describe(exc)
            self._finish(pull, "failed", error_code=failure.code.value)
            return PullStep(finished=True)
        return self._after(pull, summary)

    def _after(self, pull: PullRequest, summary: PullSummary) -> PullStep:
        if summary.status in ("too_soon", "busy") and self._answered_by_another(pull):
            return PullStep(finished=True)
        if summary.status == "too_soon":
            return PullStep(finished=False, wait=max(RESUME_SECONDS, summary.retry_after or 0.0))
        if summary.status == "busy":
            return PullStep(finished=False, wait=BUSY_RETRY_SECONDS)
        if summary.status == "partial":
            # The next run resumes it; an overflow read resumes at the feed's next turn.
            return PullStep(finished=False, wait=max(RESUME_SECONDS, summary.retry_after or 0.0))
        code = summary.error_code.value if summary.error_code else None
        self._finish(pull, "done", summary.reported(), summary.status, error_code=code)
        if summary.status == "blocked" and self._on_blocked is not None:
            self._on_blocked()
        return PullStep(finished=True)

    def _answered_by_another(self, pull: PullRequest) -> bool:
        """Finish `pull` with the last completed pull's summary if that pull read AMD's
        changes after `pull` was requested."""
        completed = self._ctx.watermark.last_completed()
        if completed is None or completed.read_at <= pull.requested_at:
            return False
        self._finish(pull, "done", completed.summary, "ok")
        return True

    def _finish(
        self,
        pull: PullRequest,
        state: str,
        counts: dict[str, int] | None = None,
        status: str | None = None,
        *,
        error_code: str | None = None,
    ) -> None:
        update: dict[str, object] = {
            "state": state,
            "finished_at": self._ctx.clock.now(),
            "error_code": error_code,
        }
        if counts is not None:
            update["summary"], update["status"] = counts, status
        self._ctx.pull_requests.save(pull.model_copy(update=update))
