"""What an XMLRPC action handler receives (`Ctx`) and returns (`Reply`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from .envelope import El, Fault
from .timefmt import fmt_servertime, to_local

if TYPE_CHECKING:
    from .app import Simulator
    from .config import SimConfig
    from .state import State


@dataclass
class Reply:
    results: El | None = None
    fault: Fault | None = None
    top_level: list[El] = field(default_factory=list)
    omit_results: bool = False


@dataclass
class Ctx:
    sim: Simulator
    msg: El
    action: str
    office_key: str
    username: str
    now: datetime
    msgtime: datetime | None = None

    @property
    def state(self) -> State:
        return self.sim.state

    @property
    def config(self) -> SimConfig:
        return self.sim.config

    @property
    def tz(self) -> ZoneInfo:
        return self.sim.tz

    def local_now(self) -> datetime:
        return to_local(self.now, self.tz)

    def stamp(self) -> datetime:
        return self.sim.amd_clock.stamp()

    def servertime(self) -> tuple[str, datetime]:
        """A fresh `servertime` (practice-local ISO with ms), remembered per office key."""
        instant = self.sim.amd_clock.stamp()
        text = fmt_servertime(to_local(instant, self.tz))
        self.state.issued_servertimes[self.office_key].add(text)
        return text, instant

    def violation(self, reason: str) -> None:
        self.sim.metrics.violation(reason, self.action, self.now)


Handler = Callable[[Ctx], Reply]


@dataclass(frozen=True)
class ActionSpec:
    classes: frozenset[str]
    handler: Handler


def results(success: bool | None = True) -> El:
    el = El("Results")
    if success is not None:
        el.attrs["success"] = "1" if success else "0"
    return el
