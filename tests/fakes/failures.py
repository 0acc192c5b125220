"""Failure injection shared by the fakes: raise given exceptions on the next N calls."""

from __future__ import annotations

from collections import defaultdict


class FaultPlan:
    """Per-method queues of exceptions. `before` faults fire instead of the call; `after`
    faults fire once the call has taken effect (a committed change whose reply was lost)."""

    def __init__(self) -> None:
        self._before: dict[str, list[BaseException | None]] = defaultdict(list)
        self._after: dict[str, list[BaseException]] = defaultdict(list)

    def fail(self, method: str, *errors: BaseException, times: int = 1, skip: int = 0) -> None:
        """Raise `errors` on the next calls of `method` (after letting `skip` calls through);
        a single error repeats `times` times."""
        self._before[method].extend([None] * skip)
        if len(errors) == 1:
            self._before[method].extend([errors[0]] * times)
        else:
            self._before[method].extend(errors)

    def fail_after_commit(self, method: str, error: BaseException, times: int = 1) -> None:
        self._after[method].extend([error] * times)

    def before(self, method: str) -> None:
        queue = self._before.get(method)
        if queue:
            error = queue.pop(0)
            if error is not None:
                raise error

    def after(self, method: str) -> None:
        queue = self._after.get(method)
        if queue:
            raise queue.pop(0)

    def pending(self, method: str) -> int:
        return len(self._before.get(method, [])) + len(self._after.get(method, []))

    def clear(self) -> None:
        self._before.clear()
        self._after.clear()
