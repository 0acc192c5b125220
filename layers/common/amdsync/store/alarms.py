"""The stack's CloudWatch alarms and their current states, for the dashboard (SPEC §7).

The API is told the alarms' names (ALARM_NAMES: the template's own alarm resources) and asks
CloudWatch `DescribeAlarms` for exactly those: states, not metrics, so one call per dashboard.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

# CloudWatch's states in the words the dashboard shows.
STATE_WORDS = {
    "OK": "OK",
    "ALARM": "In alarm",
    "INSUFFICIENT_DATA": "Not enough data",
}
_NAMES_PER_CALL = 100  # DescribeAlarms takes at most 100 names


@dataclass(frozen=True)
class AlarmState:
    name: str
    state: str  # OK | ALARM | INSUFFICIENT_DATA
    description: str
    since: datetime | None

    @property
    def words(self) -> str:
        return STATE_WORDS.get(self.state, self.state)


class CloudWatchAlarms:
    def __init__(self, cloudwatch: Any, names: Sequence[str]) -> None:
        self._cloudwatch = cloudwatch
        self._names = list(dict.fromkeys(n for n in names if n))

    def states(self) -> list[AlarmState]:
        """Every named alarm that exists, alarming ones first, then by name."""
        found: list[AlarmState] = []
        for start in range(0, len(self._names), _NAMES_PER_CALL):
            names = self._names[start : start + _NAMES_PER_CALL]
            paginator = self._cloudwatch.get_paginator("describe_alarms")
            pages = paginator.paginate(AlarmNames=names, AlarmTypes=["MetricAlarm"])
            found += [_state(alarm) for page in pages for alarm in page.get("MetricAlarms", [])]
        return sorted(found, key=lambda a: (a.state != "ALARM", a.name))


def _state(alarm: dict[str, Any]) -> AlarmState:
    return AlarmState(
        name=str(alarm["AlarmName"]),
        state=str(alarm.get("StateValue", "INSUFFICIENT_DATA")),
        description=str(alarm.get("AlarmDescription") or ""),
        since=alarm.get("StateUpdatedTimestamp"),
    )
