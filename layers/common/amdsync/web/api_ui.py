"""The admin UI and the embeddable widgets: data-free HTML shells and static assets.

Browser navigation cannot send a bearer header, so these routes are public and carry no data at
all: each page's script (`static/app.js`) calls the JSON API with the access token the sign-in
page got from the OIDC issuer (`static/oidc.js`: discovery, authorization code + PKCE, silent
refresh, sign-out; kept in `sessionStorage`), or that the embedding EHR handed a widget by
`postMessage` or a `#token=` fragment. Pasting a token is a local-development switch
(`UI_TOKEN_PASTE`). The API enforces the roles; the UI only explains them.

Every HTML response carries a strict Content-Security-Policy (scripts and styles from this
origin only, no inline code), `nosniff`, `no-referrer` and HSTS (browsers ignore it over plain
http, so the local stack is unaffected). Widgets may be framed by the origins
in `UI_FRAME_ANCESTORS`; the admin pages may not be framed at all.

Also here: `POST /patients/sync-all`, the one JSON route the UI needed that the API lacked.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import urlsplit

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from pydantic import BaseModel, ConfigDict, Field

from amdsync.amd.lanes import BACKGROUND
from amdsync.config import UiSettings, load_settings
from amdsync.domain.aggregates import RECORDS, STATUS_PREFIX
from amdsync.sync.context import SyncContext
from amdsync.sync.intake import Intake
from amdsync.web.context import services_of
from amdsync.web.routes import BASE_PATH

if TYPE_CHECKING:
    from jinja2 import Environment

router = APIGatewayHttpRouter()  # type: ignore[no-untyped-call]

UI_DIR = Path(__file__).parent / "ui"
STATIC_DIR = UI_DIR / "static"
TEMPLATE_DIR = UI_DIR / "templates"
FRAME_ANCESTORS_ENV = "UI_FRAME_ANCESTORS"
SYNC_ALL_LIMIT = 500
SYNC_ALL_PAGE = 100
SYNC_ALL_MAX_READ = 2_000
# Two years, subdomains too: API Gateway serves HTTPS only, so this only pins what is true.
STRICT_TRANSPORT_SECURITY = "max-age=63072000; includeSubDomains"

CONTENT_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".txt": "text/plain; charset=utf-8",
}
# One path segment, no dots but the extension's: nothing can climb out of the static folder.
_STATIC_NAME = re.compile(r"^[a-z0-9][a-z0-9-]*(\.min)?\.(js|css|svg|txt)$")
# A CSP source: a keyword or a scheme://host[:port] origin (no paths, quotes or separators).
_SOURCE = re.compile(
    r"^('self'|'none'|https?://[a-z0-9.-]+(:[0-9]{1,5})?|https://\*\.[a-z0-9.-]+)$"
)


@dataclass(frozen=True)
class Page:
    template: str
    title: str
    audience: str  # who the page is for, as the UI tells it


PAGES: dict[str, Page] = {
    "sign-in": Page("sign_in.html", "Sign in", "everyone"),
    "my-day": Page("my_day.html", "My day", "provider"),
    "sync-status": Page("sync_status.html", "Sync status", "billing"),
    "dashboard": Page("dashboard.html", "Sync dashboard", "admin"),
    "conflicts": Page("conflicts.html", "Conflicts", "admin"),
    "mappings": Page("mappings.html", "Mappings", "admin"),
    "settings": Page("settings.html", "Settings", "admin"),
    "webhooks": Page("webhooks.html", "Webhooks", "admin"),
    "failed-work": Page("failed_work.html", "Failed work", "billing"),
    "audit": Page("audit.html", "Audit trail", "admin"),
    "demo-ehr": Page("demo_ehr.html", "Demo EHR scheduler", "everyone"),
}
WIDGETS: dict[str, Page] = {
    "patient": Page("widget_patient.html", "Patient sync", "provider"),
    "appointment": Page("widget_appointment.html", "Appointment sync", "provider"),
    "badge": Page("widget_badge.html", "Sync badge", "provider"),
}


def frame_ancestors(raw: str | None = None) -> list[str]:
    """The configured frame-ancestors sources; anything malformed is dropped, never echoed."""
    text = os.environ.get(FRAME_ANCESTORS_ENV, "'self'") if raw is None else raw
    sources = [s for s in text.split() if _SOURCE.match(s.lower())]
    if "'none'" in sources:
        return ["'none'"]
    return sources or ["'self'"]


def ui_settings() -> UiSettings:
    return load_settings(UiSettings)


def issuer_origin(settings: UiSettings) -> str | None:
    """The issuer's origin, which the pages call for discovery and tokens (CSP connect-src)."""
    if not settings.issuer_sign_in or settings.oidc_issuer is None:
        return None
    parts = urlsplit(settings.oidc_issuer)
    origin = f"{parts.scheme}://{parts.netloc}".lower()
    return origin if _SOURCE.match(origin) else None


def content_security_policy(*, embeddable: bool, frames_self: bool = False) -> str:
    ancestors = " ".join(frame_ancestors()) if embeddable else "'none'"
    frame_src = "'self'" if frames_self else "'none'"
    issuer = issuer_origin(ui_settings())
    directives = [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'" + (f" {issuer}" if issuer else ""),
        "font-src 'self'",
        "base-uri 'none'",
        "form-action 'self'",
        f"frame-ancestors {ancestors}",
        f"frame-src {frame_src}",
    ]
    return "; ".join(directives)


def security_headers(*, embeddable: bool, frames_self: bool = False) -> dict[str, str]:
    headers = {
        "Content-Security-Policy": content_security_policy(
            embeddable=embeddable, frames_self=frames_self
        ),
        "Strict-Transport-Security": STRICT_TRANSPORT_SECURITY,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-store",
        "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
    }
    if not embeddable:
        headers["X-Frame-Options"] = "DENY"
        headers["Cross-Origin-Opener-Policy"] = "same-origin"
    return headers


@cache
def _environment() -> Environment:
    # Imported here: only the UI's page routes render templates (the API's cold start skips it).
    from jinja2 import Environment, FileSystemLoader, select_autoescape  # noqa: PLC0415

    return Environment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )


@cache
def static_files() -> dict[str, Path]:
    """URL name -> file: the static folder's own files and the vendored ones, flat."""
    found: dict[str, Path] = {}
    for folder in (STATIC_DIR, STATIC_DIR / "vendor"):
        if folder.is_dir():
            for path in sorted(folder.iterdir()):
                if path.is_file() and _STATIC_NAME.match(path.name):
                    found.setdefault(path.name, path)
    return found


@cache
def asset_version(name: str) -> str:
    """A content hash for cache-busting `?v=` on asset URLs."""
    path = static_files().get(name)
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12] if path else "0"


def _render(page: Page, *, prefix: str, context: dict[str, Any]) -> str:
    template = _environment().get_template(page.template)
    settings = ui_settings()
    return template.render(
        sign_in=settings,
        title=page.title,
        audience=page.audience,
        static=prefix + "static/",
        ui=prefix,
        version=asset_version,
        role_claim=settings.role_claim,
        practice_zone=settings.practice_timezone,
        # The billing page links the failed-work list once that page exists.
        failed_page="failed-work" in PAGES,
        **context,
    )


def _html(status: int, body: str, headers: dict[str, str]) -> Response[str]:
    return Response(status, "text/html; charset=utf-8", body, headers=headers)


def _not_found(prefix: str, embeddable: bool) -> Response[str]:
    body = _render(
        Page("not_found.html", "Page not found", "everyone"),
        prefix=prefix,
        context={"page_name": "not-found"},
    )
    return _html(404, body, security_headers(embeddable=embeddable))


@router.get(f"{BASE_PATH}/ui/<page>", include_in_schema=False)
def ui_page(page: str) -> Response[str]:
    spec = PAGES.get(page)
    if spec is None:
        return _not_found("", embeddable=False)
    body = _render(spec, prefix="", context={"page_name": page})
    framing = page == "demo-ehr"
    return _html(200, body, security_headers(embeddable=False, frames_self=framing))


@router.get(f"{BASE_PATH}/widgets/<name>", include_in_schema=False)
def widget(name: str) -> Response[str]:
    spec = WIDGETS.get(name)
    if spec is None:
        return _not_found("../ui/", embeddable=True)
    embedders = " ".join(s for s in frame_ancestors() if s.startswith("http"))
    context = {"page_name": f"widget-{name}", "embedders": embedders}
    body = _render(spec, prefix="../ui/", context=context)
    return _html(200, body, security_headers(embeddable=True))


@router.get(f"{BASE_PATH}/ui/static/<file>", include_in_schema=False)
def static_file(file: str) -> Response[str]:
    path = static_files().get(file) if _STATIC_NAME.match(file) else None
    if path is None:
        return Response(
            404,
            "text/plain; charset=utf-8",
            "Not found.",
            headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"},
        )
    headers = {
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "public, max-age=300",
        "ETag": f'"{asset_version(file)}"',
    }
    return Response(200, CONTENT_TYPES[path.suffix], path.read_text("utf-8"), headers=headers)


def _patients_to_sync(ctx: SyncContext, only_unsynced: bool) -> list[str]:
    """Up to SYNC_ALL_LIMIT patient ids, by id, reading at most SYNC_ALL_MAX_READ records in
    pages (a query with Limit: never every patient in one request)."""
    wanted: list[str] = []
    cursor: str | None = None
    for _ in range(SYNC_ALL_MAX_READ // SYNC_ALL_PAGE):
        records, cursor = ctx.patients.page(SYNC_ALL_PAGE, cursor)
        wanted += [
            r.patient_id for r in records if not only_unsynced or r.amd_sync_status != "synced"
        ]
        if cursor is None or len(wanted) >= SYNC_ALL_LIMIT:
            break
    return wanted[:SYNC_ALL_LIMIT]


class SyncAllRequest(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="forbid")

    only_unsynced: bool = Field(default=True, alias="onlyUnsynced")


class SyncAllView(BaseModel):
    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)

    queued: int
    skipped: int
    remaining: int = Field(description="Patients left out because of the per-request limit")


@router.post(
    f"{BASE_PATH}/patients/sync-all",
    tags=["patients"],
    summary="Queue a sync for every registered patient (by default only those not yet synced)",
    responses={
        202: {"description": "Queued", "content": {"application/json": {"model": SyncAllView}}}
    },
)
def sync_all_patients(
    body: Annotated[SyncAllRequest | None, Body()] = None,
) -> Response[str]:
    request = body or SyncAllRequest()
    ctx = services_of(router).context()
    wanted = _patients_to_sync(ctx, request.only_unsynced)
    intake = Intake(ctx, BACKGROUND)  # may queue hundreds: never ahead of an EHR write
    for patient_id in wanted:
        intake.request_patient_sync(patient_id)
    # Totals from the dashboard counters, not from reading every patient.
    counts, _ = ctx.patients.counts()
    total, synced = counts.get(RECORDS, 0), counts.get(f"{STATUS_PREFIX}synced", 0)
    skipped = max(0, synced) if request.only_unsynced else 0
    view = SyncAllView(
        queued=len(wanted),
        skipped=skipped,
        remaining=max(0, total - skipped - len(wanted)),
    )
    return Response(202, "application/json", view.model_dump_json())
