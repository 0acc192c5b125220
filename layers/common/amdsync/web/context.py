"""Per-request values the resolver puts in the router context: services and the caller."""

from __future__ import annotations

from typing import Any

from amdsync.web.auth import Caller
from amdsync.web.services import ApiServices


def services_of(router: Any) -> ApiServices:
    services: ApiServices = router.context["services"]
    return services


def caller_of(router: Any) -> Caller:
    caller: Caller = router.context["caller"]
    return caller
