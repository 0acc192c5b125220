"""A plain-urllib handle on a running simulator: URLs, demo credentials and admin helpers.
Independent of the product code (no `amdsync` import)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .config import (
    DEMO_APPNAME,
    DEMO_OFFICE_KEY,
    DEMO_PASSWORD,
    DEMO_USERNAME,
    STRICT_RATE_SWITCHES,
)

PARTNER_PATH = "/practicemanager/xmlrpc/processrequest.aspx"


class AdminError(RuntimeError):
    def __init__(self, status: int, body: str) -> None:
        super().__init__(f"admin call failed with HTTP {status}: {body}")
        self.status = status
        self.body = body


class AdminClient:
    """Calls `/_sim/...`. Every method returns the decoded JSON reply."""

    def __init__(self, base_url: str, timeout: float = 30.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(  # noqa: S310 - http://127.0.0.1 only
            f"{self.base_url}/_sim/{path.lstrip('/')}",
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:  # noqa: S310
                return json.loads(resp.read() or b"null")
        except urllib.error.HTTPError as err:
            raise AdminError(err.code, err.read().decode("utf-8", "replace")) from err

    # counters and lifecycle
    def report(self) -> dict[str, Any]:
        return dict(self.call("GET", "report"))

    def reset(
        self, clock: str | datetime | None = None, frozen: bool = False, **options: Any
    ) -> Any:
        """Fresh start. `options`: seed, patients, appointments (ints) and `config`, a dict of
        switches applied on top of the initial ones (e.g. `STRICT_RATE_SWITCHES`)."""
        body: dict[str, Any] = dict(options)
        if clock is not None:
            body.update({"clock": _iso(clock), "frozen": frozen})
        if not body.get("config"):
            body.pop("config", None)
        return self.call("POST", "reset", body)

    def seed(self, **seed: int) -> Any:
        return self.call("POST", "seed", dict(seed))

    # clock
    def clock(self) -> dict[str, Any]:
        return dict(self.call("GET", "clock"))

    def set_clock(self, instant: str | datetime, frozen: bool = True) -> dict[str, Any]:
        return dict(self.call("POST", "clock", {"set": _iso(instant), "frozen": frozen}))

    def advance(self, seconds: float) -> dict[str, Any]:
        return dict(self.call("POST", "clock", {"advance_seconds": seconds}))

    def freeze(self) -> dict[str, Any]:
        return dict(self.call("POST", "clock", {"freeze": True}))

    def follow_real_time(self) -> dict[str, Any]:
        return dict(self.call("POST", "clock", {"real": True}))

    # faults, latency, switches
    def faults(
        self,
        kind: str,
        count: int = 1,
        action: str | None = None,
        path: str | None = None,
        delay_ms: int | None = None,
    ) -> Any:
        body: dict[str, Any] = {"kind": kind, "count": count}
        for key, value in (("action", action), ("path", path), ("delay_ms", delay_ms)):
            if value is not None:
                body[key] = value
        return self.call("POST", "faults", body)

    def clear_faults(self) -> Any:
        return self.call("POST", "faults", {"clear": True})

    def latency(self, ms: int) -> Any:
        return self.call("POST", "latency", {"ms": ms})

    def config(self, **switches: Any) -> dict[str, Any]:
        if not switches:
            return dict(self.call("GET", "config"))
        return dict(self.call("POST", "config", switches))

    def rate_mode(
        self,
        rate_window: str | None = None,
        clock_offset_seconds: float | None = None,
        **switches: Any,
    ) -> dict[str, Any]:
        """Set the window mode (`calendar`|`sliding`|`bucket`), AMD's clock offset and any other
        switches (e.g. `peak_limits`, `login_invalidates_old_tokens`); returns the report's
        `rate_mode` (what to name next to a figure)."""
        changes = dict(switches)
        if rate_window is not None:
            changes["rate_window"] = rate_window
        if clock_offset_seconds is not None:
            changes["clock_offset_seconds"] = clock_offset_seconds
        if changes:
            self.config(**changes)
        return dict(self.report()["rate_mode"])

    def strict_rate_mode(self, clock_offset_seconds: float | None = None) -> dict[str, Any]:
        """The modes the product is judged against: sliding window, AMD's clock ahead
        (17 s unless given)."""
        offset = STRICT_RATE_SWITCHES["clock_offset_seconds"]
        return self.rate_mode(
            STRICT_RATE_SWITCHES["rate_window"],
            offset if clock_offset_seconds is None else clock_offset_seconds,
        )

    def expire_tokens(self) -> Any:
        return self.call("POST", "tokens/expire", {})

    # AMD-side data
    def appointments(self, **params: str) -> list[dict[str, Any]]:
        query = "&".join(f"{k}={v}" for k, v in params.items())
        return list(self.call("GET", "appointments" + (f"?{query}" if query else "")))

    def appointment(self, appt_id: int) -> dict[str, Any]:
        return dict(self.call("GET", f"appointments/{appt_id}"))

    def create_appointment(self, **fields: Any) -> dict[str, Any]:
        return dict(self.call("POST", "appointments", fields))

    def edit_appointment(self, appt_id: int, **fields: Any) -> dict[str, Any]:
        return dict(self.call("POST", f"appointments/{appt_id}", fields))

    def post_charges(self, appt_id: int, charges: list[dict[str, str]] | None = None) -> Any:
        return self.call("POST", f"appointments/{appt_id}/charges", {"charges": charges or []})

    def patients(self, name: str = "") -> list[dict[str, Any]]:
        return list(self.call("GET", f"patients?name={name}" if name else "patients"))

    def patient(self, patient_id: int) -> dict[str, Any]:
        return dict(self.call("GET", f"patients/{patient_id}"))

    def edit_patient(self, patient_id: int, **fields: Any) -> dict[str, Any]:
        return dict(self.call("POST", f"patients/{patient_id}", fields))


def _iso(value: str | datetime) -> str:
    return value.isoformat() if isinstance(value, datetime) else value


@dataclass
class SimHandle:
    """What the `amd_sim` fixture yields."""

    base_url: str
    office_key: str = DEMO_OFFICE_KEY
    username: str = DEMO_USERNAME
    password: str = DEMO_PASSWORD
    appname: str = DEMO_APPNAME
    admin: AdminClient = field(init=False)
    sim: Any = None  # the in-process Simulator, when there is one

    def __post_init__(self) -> None:
        self.admin = AdminClient(self.base_url)

    @property
    def partner_login_url(self) -> str:
        return self.base_url + PARTNER_PATH

    @property
    def api_host(self) -> str:
        return str(self.admin.config()["api_host"])

    @property
    def webserver(self) -> str:
        """What login step 1 hands out (clients should use the login reply, not this)."""
        return f"{self.base_url}/processrequest/{self.api_host}/{self.appname}"

    @property
    def xmlrpc_url(self) -> str:
        return self.webserver + "/xmlrpc/processrequest.aspx"

    @property
    def rest_base(self) -> str:
        return f"{self.base_url}/api/{self.api_host}/{self.appname}"

    @property
    def credentials(self) -> dict[str, str]:
        return {
            "officecode": self.office_key,
            "username": self.username,
            "psw": self.password,
            "appname": self.appname,
        }
