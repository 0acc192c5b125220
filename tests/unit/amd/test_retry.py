import pytest

from amdsync.amd.errors import AppointmentConflict, RateLimited, ServerError, TimeoutError_
from amdsync.amd.retry import RetryPolicy, run_with_retry


class Flaky:
    def __init__(self, failures, result="ok"):
        self.failures = list(failures)
        self.calls = 0
        self.result = result

    def __call__(self):
        self.calls += 1
        if self.failures:
            raise self.failures.pop(0)
        return self.result


def test_full_jitter_stays_within_growing_cap():
    seen = []
    policy = RetryPolicy(base_seconds=0.5, cap_seconds=4, rng=lambda lo, hi: seen.append(hi) or hi)
    assert [policy.delay(n) for n in range(5)] == [0.5, 1, 2, 4, 4]
    assert seen == [0.5, 1, 2, 4, 4]
    real = RetryPolicy(base_seconds=1, cap_seconds=8)
    assert all(0 <= real.delay(3) <= 8 for _ in range(50))


def test_transient_errors_are_retried_with_sleeps():
    slept = []
    call = Flaky([ServerError(), TimeoutError_()])
    assert (
        run_with_retry(call, policy=RetryPolicy(rng=lambda lo, hi: hi), sleep=slept.append) == "ok"
    )
    assert call.calls == 3
    assert slept == [0.5, 1.0]


def test_retries_are_bounded():
    call = Flaky([ServerError()] * 10)
    with pytest.raises(ServerError):
        run_with_retry(call, policy=RetryPolicy(max_attempts=3), sleep=lambda s: None)
    assert call.calls == 3


@pytest.mark.parametrize("error", [AppointmentConflict(amd_code=4101), RateLimited(30)])
def test_business_and_rate_limit_outcomes_are_not_retried(error):
    call = Flaky([error])
    with pytest.raises(type(error)):
        run_with_retry(call, policy=RetryPolicy(), sleep=lambda s: None)
    assert call.calls == 1


def test_non_idempotent_create_is_not_retried_without_a_check():
    call = Flaky([TimeoutError_(maybe_committed=True)])
    with pytest.raises(TimeoutError_):
        run_with_retry(call, policy=RetryPolicy(), sleep=lambda s: None, idempotent=False)
    assert call.calls == 1


def test_non_idempotent_create_adopts_what_the_check_finds():
    call = Flaky([TimeoutError_(maybe_committed=True)])
    result = run_with_retry(
        call,
        policy=RetryPolicy(),
        sleep=lambda s: None,
        idempotent=False,
        already_done=lambda: "found",
    )
    assert result == "found" and call.calls == 1


def test_non_idempotent_create_retries_when_the_check_finds_nothing():
    call = Flaky([ServerError()])
    result = run_with_retry(
        call,
        policy=RetryPolicy(),
        sleep=lambda s: None,
        idempotent=False,
        already_done=lambda: None,
    )
    assert result == "ok" and call.calls == 2
