"""A tiny AMD client for the simulator's own tests (independent of the product's client)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from local.amdsim.handle import SimHandle
from local.amdsim.timefmt import fmt_vb_long

DENVER = ZoneInfo("America/Denver")
BOOKING = {
    "patientid": 1001,
    "columnid": 201,
    "startdatetime": "2025-04-15T10:00:00",
    "duration": 50,
    "profileid": 101,
    "type": [{"id": 11}],
}


def denver(text: str) -> datetime:
    """'2025-03-12 09:00' practice-local -> aware UTC instant."""
    return datetime.fromisoformat(text).replace(tzinfo=DENVER).astimezone(UTC)


def ppmd(resp: httpx.Response) -> dict[str, Any]:
    data = resp.json()
    assert "PPMDResults" in data, data
    return dict(data["PPMDResults"])


def fault_code(results: dict[str, Any]) -> str | None:
    error = results.get("Error")
    if not error:
        return None
    return str(error["Fault"]["detail"]["code"])


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


class Amd:
    def __init__(self, handle: SimHandle, http: httpx.Client) -> None:
        self.h = handle
        self.http = http
        self.token = ""
        self.webserver = ""

    # ------------------------------------------------------------ basics

    def now_local(self) -> datetime:
        return self.h.sim.clock.now().astimezone(DENVER).replace(tzinfo=None)

    def msgtime(self) -> str:
        return fmt_vb_long(self.now_local())

    def login_body(self, **override: str) -> dict[str, Any]:
        msg = {"@action": "login", "@class": "login", "@msgtime": self.msgtime()}
        msg.update({f"@{k}": v for k, v in self.h.credentials.items()})
        msg.update({f"@{k}": v for k, v in override.items()})
        return {"ppmdmsg": msg}

    def login(self) -> str:
        body = self.login_body()
        first = ppmd(self.http.post(self.h.partner_login_url, json=body))
        assert fault_code(first) == "-2147220476"
        self.webserver = first["Results"]["usercontext"]["@webserver"]
        second = ppmd(self.http.post(self.xmlrpc_url, json=body))
        assert second["Results"]["@success"] == "1", second
        self.token = second["Results"]["usercontext"]["#text"]
        return self.token

    @property
    def xmlrpc_url(self) -> str:
        return self.webserver + "/xmlrpc/processrequest.aspx"

    @property
    def rest_base(self) -> str:
        return self.webserver.replace("/processrequest/", "/api/")

    def message(self, action: str, cls: str = "api", **fields: Any) -> dict[str, Any]:
        msg: dict[str, Any] = {"@action": action, "@class": cls, "@msgtime": self.msgtime()}
        for key, value in fields.items():
            msg[key if isinstance(value, (dict, list)) or key.startswith("@") else f"@{key}"] = (
                value
            )
        return {"ppmdmsg": msg}

    def post(self, body: Any, **kwargs: Any) -> httpx.Response:
        headers = {"Cookie": f"token={self.token}"} if self.token else {}
        headers.update(kwargs.pop("headers", {}))
        return self.http.post(self.xmlrpc_url, json=body, headers=headers, **kwargs)

    def raw(self, action: str, cls: str = "api", **fields: Any) -> httpx.Response:
        return self.post(self.message(action, cls, **fields))

    def call(self, action: str, cls: str = "api", **fields: Any) -> dict[str, Any]:
        resp = self.raw(action, cls, **fields)
        assert resp.status_code == 200, resp.text
        return ppmd(resp)

    def ok(self, action: str, cls: str = "api", **fields: Any) -> dict[str, Any]:
        result = self.call(action, cls, **fields)
        assert fault_code(result) is None, result["Error"]
        return dict(result["Results"])

    def rest(self, method: str, path: str, body: Any = None, **params: Any) -> httpx.Response:
        return self.http.request(
            method,
            self.rest_base + path,
            json=body,
            params=params or None,
            headers={"Authorization": f"Bearer {self.token}"},
        )

    def book(self, **override: Any) -> httpx.Response:
        return self.rest("POST", "/scheduler/Appointments", {**BOOKING, **override})

    def report(self) -> dict[str, Any]:
        return self.h.admin.report()

    def violations(self) -> list[str]:
        return [v["reason"] for v in self.report()["violations"]["items"]]
