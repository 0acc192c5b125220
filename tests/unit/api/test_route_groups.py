"""Route groups load on their first request (web/route_groups.py): the route table names each
route's module, that module's router serves exactly those routes, and a request includes only
the group it needs in the resolver."""

from __future__ import annotations

import importlib
import threading

import pytest

from amdsync.web.resolver import ApiResolver
from amdsync.web.route_groups import GROUPS, PACKAGE
from amdsync.web.routes import API_ROUTES, BASE_PATH
from tests.unit.api.support import Api


def _served_by(group: str) -> set[tuple[str, str]]:
    router = importlib.import_module(f"{PACKAGE}.{group}").router
    return {
        (methods[0], rule.replace("<", "{").replace(">", "}"))
        for rule, methods, *_ in router._routes
    }


@pytest.mark.parametrize("group", GROUPS)
def test_each_group_serves_exactly_the_routes_the_table_gives_it(group: str) -> None:
    named = {(r.method, r.full_path) for r in API_ROUTES if r.group == group}
    assert named
    assert _served_by(group) == named


def test_every_route_outside_a_group_is_the_resolvers_own() -> None:
    assert {r.path for r in API_ROUTES if r.group is None} == {"/health", "/openapi.json"}
    assert len(GROUPS) == 8


def _resolver(api: Api) -> ApiResolver:
    assert isinstance(api.resolver, ApiResolver)
    return api.resolver


def _route_count(group: str) -> int:
    return sum(1 for r in API_ROUTES if r.group == group)


def test_a_request_includes_only_the_group_of_its_route() -> None:
    api = Api()
    resolver = _resolver(api)
    own = len(resolver._route_keys)
    assert own == 2  # health and openapi.json
    assert api.call("GET", "/health", roles=None).status == 200
    assert resolver.groups.loaded == frozenset()

    assert api.call("GET", "/sync/status", roles=["billing"]).status == 200
    assert resolver.groups.loaded == {"api_console"}
    assert len(resolver._route_keys) == own + _route_count("api_console")

    assert api.call("GET", "/audit", roles=["admin"]).status == 200
    assert api.call("GET", "/sync/status", roles=["billing"]).status == 200
    assert resolver.groups.loaded == {"api_console", "api_audit"}
    assert len(resolver._route_keys) == own + _route_count("api_console") + 1


def test_a_refused_request_loads_no_group() -> None:
    api = Api()
    api.call("GET", "/sync/dashboard", roles=["provider"]).assert_problem(403, "FORBIDDEN")
    api.call("GET", "/sync/dashboard", roles=None).assert_problem(401, "UNAUTHENTICATED")
    assert _resolver(api).groups.loaded == frozenset()


def test_the_openapi_route_describes_every_route_before_any_group_was_requested() -> None:
    api = Api()
    document = api.call("GET", "/openapi.json", roles=None).json()
    documented = {(r.method.lower(), r.full_path) for r in API_ROUTES if r.documented}
    found = {(m, p) for p, ops in document["paths"].items() for m in ops}
    assert found == documented


def test_concurrent_first_requests_include_a_group_once() -> None:
    resolver = _resolver(Api())
    threads = [
        threading.Thread(target=resolver.groups.load_for, args=(f"GET {BASE_PATH}/audit",))
        for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert resolver.groups.loaded == {"api_audit"}
    assert sum(1 for k in resolver._route_keys if "/audit" in k) == 1
