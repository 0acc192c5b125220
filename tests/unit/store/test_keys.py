"""The key layout in store/keys.py, the one place keys are made. Stored items are found by these
strings, so a change here would orphan existing data: the layout is pinned literally."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from amdsync.store import keys

PRACTICE = "p1"
AT = datetime(2026, 12, 5, 13, 4, 5, 678_000, tzinfo=UTC)


def test_webhook_keys_keep_their_stored_layout() -> None:
    assert keys.webhooks(PRACTICE) == "p1#WEBHOOKS"
    assert keys.webhook_secrets(PRACTICE) == "p1#WEBHOOKSECRET"
    assert keys.webhook_deliveries(PRACTICE, "crm") == "p1#WEBHOOK#crm#DELIVERIES"


def test_counter_failed_and_audit_keys_keep_their_stored_layout() -> None:
    assert keys.failed(PRACTICE) == "p1#FAILED"
    assert keys.record_counts(PRACTICE) == "p1#COUNTS"
    assert keys.log_stats(PRACTICE) == "p1#STATS"
    assert keys.audit_entity(PRACTICE, "appointment", "a-1") == "p1#AUDITENTITY#appointment#a-1"
    assert keys.audit_month_named(PRACTICE, "2026-12") == "p1#AUDIT#2026-12"


def test_audit_month_is_the_utc_month_of_the_time() -> None:
    late_evening_west = datetime(2026, 11, 30, 20, 0, tzinfo=timezone(timedelta(hours=-7)))
    assert keys.audit_month(PRACTICE, late_evening_west) == keys.audit_month_named(
        PRACTICE, "2026-12"
    )


def test_timed_sort_key_is_utc_milliseconds_then_id() -> None:
    assert keys.timed(AT, "e-1") == "2026-12-05T13:04:05.678Z#e-1"
    same_instant_elsewhere = AT.astimezone(timezone(timedelta(hours=5)))
    assert keys.timed(same_instant_elsewhere, "e-1") == keys.timed(AT, "e-1")


def test_timed_sort_keys_order_by_time_before_id() -> None:
    earlier = keys.timed(AT, "zzz")
    later = keys.timed(AT + timedelta(milliseconds=1), "aaa")
    assert sorted([later, earlier]) == [earlier, later]
