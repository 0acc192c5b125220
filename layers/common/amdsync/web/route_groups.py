"""The API's route groups, each imported when a request for one of its routes first arrives.

A cold start then pays only for what routing needs (the gate, the error mapping, Powertools'
resolver): a group's module, its pydantic models and the use cases behind it load with the
first request that needs them, once per process. `routes.API_ROUTES` names each route's group,
so the route table stays the one place that says which module serves which route.
"""

from __future__ import annotations

import importlib
import threading
from typing import TYPE_CHECKING

from amdsync.web.routes import API_ROUTES, RouteSpec

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import APIGatewayHttpResolver

ROUTES_BY_KEY: dict[str, RouteSpec] = {f"{r.method} {r.full_path}": r for r in API_ROUTES}
GROUPS: tuple[str, ...] = tuple(dict.fromkeys(r.group for r in API_ROUTES if r.group))
PACKAGE = "amdsync.web"


class RouteGroups:
    """Includes each group's router in the resolver at most once (thread-safe: a local server
    may resolve two first requests at the same time)."""

    def __init__(self, app: APIGatewayHttpResolver) -> None:
        self._app = app
        self._loaded: set[str] = set()
        self._lock = threading.Lock()

    @property
    def loaded(self) -> frozenset[str]:
        return frozenset(self._loaded)

    def load_for(self, route_key: str) -> None:
        """The group serving the route API Gateway matched; every group for a key we do not
        know (only possible without the gate, which refuses unknown routes first)."""
        route = ROUTES_BY_KEY.get(route_key)
        if route is None:
            self.load_all()
        elif route.group is not None:
            self._load(route.group)

    def load_all(self) -> None:
        """Every group (the OpenAPI document describes them all)."""
        for group in GROUPS:
            self._load(group)

    def _load(self, group: str) -> None:
        if group in self._loaded:
            return
        with self._lock:
            if group in self._loaded:
                return
            module = importlib.import_module(f"{PACKAGE}.{group}")
            self._app.include_router(module.router)
            self._loaded.add(group)
