"""The Monday-morning summary (SPEC §7): counts, success rate, top errors, conflicts, p95.

A rate-limit deferral is a job put back to wait for AMD's budget, not a sync: the summary counts
the syncs without them and names the deferrals on a line of their own (issue 18 item 8).
"""

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
        f"Syncs: {syncs_without_deferrals(stats)} ({stats.succeeded} succeeded, "
        f"{stats.failed} failed)",
        f"Success rate: {rate}; p95 duration: {p95}",
        f"Top errors: {top or 'none'}",
        f"Conflicts: {stats.conflicts} new; {ctx.conflicts.open_count()} open",
        f"Rate-limit deferrals: {stats.deferred} (jobs put back to wait for AMD's "
        "budget; not counted as syncs)",
    ]
    return "\n".join(lines), stats


def syncs_without_deferrals(stats: SyncStats) -> int:
    """`total` is succeeded + failed + skipped + deferred (SPEC §9.4): the syncs are the rest."""
    return stats.total - stats.deferred
