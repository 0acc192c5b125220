"""Whether a scheduled pull is due (the schedule fires every minute; settings decide)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from amdsync.domain.settings import Settings

# The schedule ticks every minute. GETUPDATEDVISITS' own rule (once per 60 s + margin per
# office key, whoever calls; PROTOCOL §3.14) is enforced by the shared rate limiter, and a
# scheduled pull waits the few seconds it may have to inside its run (PULL_MAX_RATE_WAIT). This
# gate only keeps one tick from pulling twice: half a tick, so a pull that took a few seconds
# (or a tick that fired a little early) does not skip the next minute.
MIN_INTERVAL = timedelta(seconds=30)


def pull_due(
    settings: Settings, last_success: datetime | None, now: datetime, tz: ZoneInfo
) -> bool:
    if settings.sync_frequency == "manual":
        return False
    if last_success is not None and now - last_success < MIN_INTERVAL:
        return False
    if last_success is None or settings.sync_frequency == "realtime":
        return True
    if settings.sync_frequency == "hourly":
        return now - last_success >= timedelta(hours=1) - timedelta(seconds=30)
    # daily: once, at or after the practice-local hour, if not yet pulled since that hour today
    local_now = now.astimezone(tz)
    today_at = local_now.replace(hour=settings.daily_hour, minute=0, second=0, microsecond=0)
    return local_now >= today_at and last_success.astimezone(tz) < today_at


_INTERVAL = {
    "realtime": timedelta(minutes=1),
    "hourly": timedelta(hours=1),
    "daily": timedelta(days=1),
}


def pull_stale(settings: Settings, last_success: datetime | None, now: datetime) -> bool:
    """SPEC §7: no successful pull for three intervals (manual mode is never stale)."""
    interval = _INTERVAL.get(settings.sync_frequency)
    if interval is None or last_success is None:
        return False
    return now - last_success > 3 * interval
