"""Every sync operation leaves a sync log entry (ids and codes only) and metrics (SPEC §7)."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field

from amdsync.domain.errors import SyncErrorCode
from amdsync.domain.journal import Direction, EntityType, Outcome, SyncLogEntry
from amdsync.sync.metrics import MetricsSink
from amdsync.sync.ports import Clock, SyncLogs


def new_id() -> str:
    return uuid.uuid4().hex


@dataclass
class Operation:
    """One timed operation on one entity; `finish` writes its log entry and metrics once."""

    entity_type: EntityType
    entity_id: str
    operation: str
    direction: Direction
    actor: str = "system"
    correlation_id: str | None = None
    started: float = field(default_factory=time.perf_counter)
    amd_calls: int = 0


class Journal:
    def __init__(self, logs: SyncLogs, metrics: MetricsSink, clock: Clock) -> None:
        self._logs = logs
        self._metrics = metrics
        self._clock = clock

    def finish(
        self,
        op: Operation,
        outcome: Outcome,
        error_code: SyncErrorCode | None = None,
        message: str | None = None,
    ) -> SyncLogEntry:
        elapsed_ms = (time.perf_counter() - op.started) * 1000
        entry = SyncLogEntry(
            id=new_id(),
            at=self._clock.now(),
            entity_type=op.entity_type,
            entity_id=op.entity_id,
            operation=op.operation,
            direction=op.direction,
            outcome=outcome,
            duration_ms=int(elapsed_ms),
            amd_calls=op.amd_calls,
            error_code=error_code,
            message=message[:500] if message else None,
            correlation_id=op.correlation_id,
            actor=op.actor,
        )
        self._logs.append(entry)
        self._emit(op, outcome, error_code, elapsed_ms)
        return entry

    def _emit(
        self, op: Operation, outcome: Outcome, code: SyncErrorCode | None, elapsed_ms: float
    ) -> None:
        if outcome == "success":
            self._metrics.count("SyncSucceeded", entity=op.entity_type)
            self._metrics.milliseconds("SyncDuration", elapsed_ms, entity=op.entity_type)
        elif outcome in ("error", "conflict"):
            error_type = code.value if code else "UNKNOWN"
            self._metrics.count("SyncFailed", entity=op.entity_type, error_type=error_type)
        if outcome == "conflict":
            self._metrics.count("Conflicts")
