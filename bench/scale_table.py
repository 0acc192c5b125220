"""The scale section's rows in `make bench`'s table (figure, measured, target)."""

from __future__ import annotations

from typing import Any

Row = tuple[str, str, str]


def _ms(d: dict[str, Any]) -> str:
    return f"p50 {d['p50_ms']} ms / p95 {d['p95_ms']} ms ({d['requests']})"


def rows(scale: dict[str, Any]) -> list[Row]:
    sizes = scale["sizes"]
    store = f"{sizes['appointments']:,} appts / {sizes['patients']:,} patients"
    api, lanes, pull = scale["api"], scale["lanes"], scale["pull"]
    out: list[Row] = [
        (f"scale ({store}): bulk-start 366 days", _ms(api["bulk_start_366_days"]), "< 1000 ms"),
    ]
    for name, label in (("peak", "peak"), ("off_peak", "off-peak")):
        d = lanes[name]
        out.append(
            (
                f"scale: interactive sync behind {d['backlog_at_start']} background jobs, {label}",
                f"p50 {d['latency_p50_s']} s / p95 {d['latency_p95_s']} s (sim clock)",
                "<= 1 slot of its tier",
            )
        )
    out.append(
        (
            f"scale: pull of {pull['changed_visits']:,} changed visits, "
            f"{pull['deadline_s']:.0f} s invocations",
            f"{pull['feed_calls']} feed calls, {pull['change_feed_entries']} published "
            f"({pull['distinct_visits_published']} distinct), {pull['invocations']} invocations",
            f"{pull['target_calls']} calls, {pull['changed_visits']} once",
        )
    )
    out.append(("scale: pull visits per second", str(pull["visits_per_second"]), ">= 500"))
    out.append(
        (
            "scale: pull, longest invocation (simulated waits + compute)",
            f"{pull['longest_invocation_s']} s ({pull['composition']})",
            f"< {pull['deadline_s']:.0f} s",
        )
    )
    stuck = pull.get("as_deployed")
    if stuck:
        out.append(
            (
                "scale: pull as deployed (PullFunction, 50 s rate wait)",
                f"unfinished after {stuck['invocations']} invocations "
                f"({stuck['feed_calls']} feed calls, {stuck['statuses'][-1]})",
                "finishes",
            )
        )
    for key, label in (
        ("sync_status", "sync-status"),
        ("sync_logs", "logs"),
        ("sync_stats", "stats"),
    ):
        out.append((f"scale: API {label}", _ms(api[key]), "-"))
    memory = scale["memory"]
    for name, rss in memory["import_rss_mb"].items():
        peak = memory["invocation_peak_mb"].get(name)
        extra = f" + {peak} MB invocation" if peak is not None else ""
        out.append((f"scale: memory {name}", f"{rss} MB import{extra}", "< 512 MB"))
    cost = scale["cost"]
    out.append(("scale: cost per 1,000 syncs", f"${cost['per_1000_syncs_usd']}", "-"))
    out.append(
        (
            f"scale: cost per month, {cost['assumptions']['clinicians']} clinicians",
            f"${cost['month']['total_usd']}",
            "-",
        )
    )
    return out
