"""The demo seed's ETA (issue 18 item 7): read from the dashboard once the workers have done a
sample of jobs after the last registration, so it reflects the drain, not the seeding."""

from __future__ import annotations

from typing import Any

from amdsync.sync.estimate import PACE_SAMPLE
from local.runner.api_client import ApiCallError, Reply
from local.runner.seed import SeedResult, queue_eta, seed_summary


def board(synced: int, depth: int, eta: int) -> dict[str, Any]:
    return {
        "appointments": {"synced": synced},
        "patients": {"synced": 50},
        "queue": {"depth": depth, "estimatedWaitSeconds": eta},
    }


class Dashboards:
    """Answers GET /sync/dashboard with the next board of a script (the last one repeats)."""

    def __init__(self, *boards: dict[str, Any]) -> None:
        self.boards = list(boards)
        self.reads = 0

    def get(self, role: str, path: str) -> Any:
        assert (role, path) == ("admin", "/sync/dashboard")
        self.reads += 1
        return self.boards[min(self.reads, len(self.boards)) - 1]


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_the_eta_is_read_once_two_samples_agree_on_the_pace() -> None:
    n = PACE_SAMPLE
    api = Dashboards(
        board(10, 300, 960),  # right after the last PUT: the pace while seeding
        board(10 + n - 1, 281, 900),  # not yet a sample
        board(10 + n, 280, 280),  # 1.0 s a job: the ramp
        board(10 + 2 * n, 260, 156),  # 0.6 s a job: faster, not steady yet
        board(10 + 3 * n, 240, 137),  # 0.57 s a job: within 15 % of 0.6: steady
        board(10 + 4 * n, 220, 100),
    )
    clock = Clock()
    eta = queue_eta(api, [], clock=clock, pause=clock.sleep)  # type: ignore[arg-type]
    assert (eta, api.reads) == (137, 5)


def test_an_empty_queue_answers_at_once() -> None:
    api = Dashboards(board(300, 0, 0))
    clock = Clock()
    assert queue_eta(api, [], clock=clock, pause=clock.sleep) == 0  # type: ignore[arg-type]
    assert clock.now == 0.0


def test_a_slow_drain_answers_when_patience_runs_out() -> None:
    api = Dashboards(board(10, 300, 3600))  # no sample ever completes
    clock = Clock()
    eta = queue_eta(api, [], patience=30, clock=clock, pause=clock.sleep)  # type: ignore[arg-type]
    assert eta == 3600 and 30 <= clock.now <= 33


def test_without_the_dashboard_the_replies_estimate_is_used() -> None:
    class Refusing:
        def get(self, role: str, path: str) -> Any:
            raise ApiCallError(Reply(504, {"message": "timeout"}, {}))

    queued = [{"estimatedWaitSeconds": 40}, {"estimatedWaitSeconds": 155}]
    assert queue_eta(Refusing(), queued) == 155  # type: ignore[arg-type]


def test_the_banner_line_says_what_is_queued_and_when_it_is_done() -> None:
    line = seed_summary(SeedResult(queued=300, estimated_wait_seconds=170))
    assert line.startswith("300 appointment syncs queued; done in about 3 min (170 s;")
    assert "GET /sync/dashboard" in line
