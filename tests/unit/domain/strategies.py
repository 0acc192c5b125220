"""Hypothesis strategies shared by the time tests."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from hypothesis import strategies as st

ZONES = ["America/Denver", "America/New_York", "America/Phoenix", "Pacific/Honolulu"]

zones = st.sampled_from(ZONES)

instants = st.datetimes(
    min_value=datetime(2000, 1, 1),
    max_value=datetime(2100, 12, 31, 23, 59, 59),
    timezones=st.just(UTC),
)

whole_second_instants = instants.map(lambda i: i.replace(microsecond=0))

naive_local_times = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 12, 31, 23, 59, 59)
).map(lambda d: d.replace(microsecond=0))


def local_fold(instant: datetime, zone: str) -> int:
    """1 when the instant is the second occurrence of its wall time (DST overlap)."""
    return instant.astimezone(ZoneInfo(zone)).fold
