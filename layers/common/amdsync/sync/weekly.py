"""The Monday-morning summary (SPEC §7): counts, success rate, top errors, conflicts, p95."""

from __future__ import annotations

from amdsync.sync.context import SyncContext
from amdsync.sync.reports import SyncStats, stats_for


def weekly_summary(ctx: SyncContext) -> tuple[str, SyncStats]:
    stats = stats_for(ctx, "7d")
    rate = "n/a" if stats.success_rate is None else f"{stats.success_rate * 100:.1f} %"
    p95 = "n/a" if stats.p95_duration_ms is None else f"{stats.p95_duration_ms:.0f} ms"
    top = ", ".join(f"{code}: {n}" for code, n in list(stats.errors_by_type.items())[:5])
    lines = [
        f"amdsync weekly summary for practice {'••••' + ctx.practice[-2:]}",
        f"Syncs: {stats.total} ({stats.succeeded} succeeded, {stats.failed} failed)",
        f"Success rate: {rate}; p95 duration: {p95}",
        f"Top errors: {top or 'none'}",
        f"Conflicts: {stats.conflicts} new; {ctx.conflicts.open_count()} open",
        f"Rate-limit waits: {stats.rate_limit_waits}",
    ]
    return "\n".join(lines), stats
