"""What use cases report as metrics (SPEC §7), without depending on Powertools directly."""

from __future__ import annotations

from typing import Protocol


class MetricsSink(Protocol):
    def count(self, name: str, value: int = 1, **dimensions: str) -> None: ...
    def milliseconds(self, name: str, value: float, **dimensions: str) -> None: ...


class NullMetrics:
    def count(self, name: str, value: int = 1, **dimensions: str) -> None:
        return None

    def milliseconds(self, name: str, value: float, **dimensions: str) -> None:
        return None


class RecordingMetrics:
    """Keeps every data point; tests read them and the PHI scan inspects their dimensions."""

    def __init__(self) -> None:
        self.points: list[tuple[str, float, dict[str, str]]] = []

    def count(self, name: str, value: int = 1, **dimensions: str) -> None:
        self.points.append((name, float(value), dimensions))

    def milliseconds(self, name: str, value: float, **dimensions: str) -> None:
        self.points.append((name, value, dimensions))

    def total(self, name: str) -> float:
        return sum(value for point, value, _ in self.points if point == name)
