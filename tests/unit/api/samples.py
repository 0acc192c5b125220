"""One realistic request per route of API_ROUTES: path ids, query and body (no real PHI)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from amdsync.web.routes import API_ROUTES, RouteSpec

PATIENT_BODY: dict[str, Any] = {
    "firstName": "Ada",
    "lastName": "Sample",
    "dateOfBirth": "1980-04-02",
    "sex": "F",
    "phone": "5555550100",
    "address": {"line1": "1 Main St", "city": "Salt Lake City", "state": "UT", "zip": "84101"},
    "ehrVersion": 3,
}
APPOINTMENT_BODY: dict[str, Any] = {
    "patientId": "P-100",
    "providerId": "DR-7",
    "facilityId": "MAIN",
    "appointmentType": "THERAPY_50",
    "start": "2026-12-01T10:00:00",
    "timeZone": "America/Denver",
    "durationMinutes": 50,
    "status": "SCHEDULED",
    "ehrVersion": 1,
}
SETTINGS_BODY: dict[str, Any] = {
    "autoSyncAppointments": True,
    "syncFrequency": "hourly",
    "dailyHour": 2,
    "conflictPolicy": "manual",
    "syncAppointmentTypes": None,
    "massChangeGuardRatio": 0.2,
}


@dataclass(frozen=True)
class Sample:
    path_params: dict[str, str] = field(default_factory=dict)
    body: Any = None
    query: dict[str, str] = field(default_factory=dict)


SAMPLES: dict[tuple[str, str], Sample] = {
    ("GET", "/patients/{patientId}/sync-status"): Sample({"patientId": "P-100"}),
    ("POST", "/patients/{patientId}/sync"): Sample({"patientId": "P-100"}),
    ("GET", "/patients/{patientId}/sync-logs"): Sample(
        {"patientId": "P-100"}, query={"limit": "20"}
    ),
    ("GET", "/appointments/{appointmentId}/sync-status"): Sample({"appointmentId": "A-200"}),
    ("POST", "/appointments/{appointmentId}/sync"): Sample({"appointmentId": "A-200"}),
    ("POST", "/appointments/bulk-sync"): Sample(
        body={"from": "2026-12-01", "to": "2026-12-07", "providerId": None}
    ),
    ("GET", "/appointments/bulk-sync/{jobId}"): Sample({"jobId": "job-0001"}),
    ("POST", "/appointments/pull-updates"): Sample(),
    ("GET", "/appointments/pull-updates/{pullId}"): Sample({"pullId": "pull-0001"}),
    ("POST", "/appointments/bulk-sync/{jobId}/cancel"): Sample({"jobId": "job-0001"}),
    ("GET", "/sync/dashboard"): Sample(),
    ("GET", "/sync/logs"): Sample(query={"entityType": "appointment", "limit": "50"}),
    ("GET", "/sync/stats"): Sample(query={"period": "7d"}),
    ("GET", "/audit"): Sample(query={"entityType": "appointment", "limit": "20"}),
    ("GET", "/sync/failed"): Sample(query={"limit": "20"}),
    ("POST", "/sync/failed/{jobId}/retry"): Sample({"jobId": "20261201T100000000-0a0b0c0d"}),
    ("POST", "/sync/failed/retry-all"): Sample(),
    ("DELETE", "/sync/failed/{jobId}"): Sample(
        {"jobId": "20261201T100000000-0a0b0c0d"}, body={"reason": "duplicate of another visit"}
    ),
    ("GET", "/me"): Sample(),
    ("GET", "/schedule"): Sample(query={"date": "2026-12-01", "providerId": "DR-7"}),
    ("GET", "/sync/status"): Sample(),
    ("PUT", "/patients/{patientId}"): Sample({"patientId": "P-100"}, body=PATIENT_BODY),
    ("PUT", "/appointments/{appointmentId}"): Sample(
        {"appointmentId": "A-200"}, body=APPOINTMENT_BODY
    ),
    ("POST", "/appointments/{appointmentId}/status"): Sample(
        {"appointmentId": "A-200"}, body={"status": "CHECKED_IN", "ehrVersion": 2}
    ),
    ("GET", "/appointments"): Sample(query={"from": "2026-12-01", "to": "2026-12-02"}),
    ("GET", "/visits/{visitId}"): Sample({"visitId": "5001"}),
    ("GET", "/changes"): Sample(query={"cursor": "0", "limit": "100"}),
    ("GET", "/conflicts"): Sample(query={"state": "open"}),
    ("POST", "/conflicts/{conflictId}/resolve"): Sample(
        {"conflictId": "c-0001"}, body={"keep": "ehr"}
    ),
    ("GET", "/settings"): Sample(),
    ("PUT", "/settings"): Sample(body=SETTINGS_BODY),
    ("PATCH", "/settings"): Sample(body={"conflictPolicy": "ehr_wins"}),
    ("POST", "/settings/test-connection"): Sample(),
    ("GET", "/providers"): Sample(),
    ("GET", "/facilities"): Sample(),
    ("GET", "/mappings/{kind}"): Sample({"kind": "providers"}),
    ("PUT", "/mappings/{kind}/{ehrId}"): Sample(
        {"kind": "providers", "ehrId": "DR-9"},
        body={"amdId": "23", "amdColumnId": "33", "confirmed": True},
    ),
    ("GET", "/health"): Sample(),
    ("GET", "/openapi.json"): Sample(),
    ("POST", "/patients/sync-all"): Sample(body={"onlyUnsynced": True}),
    ("GET", "/webhooks"): Sample(),
    ("PUT", "/webhooks/{webhookId}"): Sample(
        {"webhookId": "wh-1"},
        body={"url": "https://hooks.example.com/amdsync", "events": ["appointment.changed"]},
    ),
    ("DELETE", "/webhooks/{webhookId}"): Sample({"webhookId": "wh-1"}),
    ("GET", "/webhooks/{webhookId}/deliveries"): Sample({"webhookId": "wh-1"}),
    ("POST", "/webhooks/{webhookId}/test"): Sample({"webhookId": "wh-1"}),
    ("GET", "/ui/{page}"): Sample({"page": "dashboard"}),
    ("GET", "/ui/static/{file}"): Sample({"file": "app.js"}),
    ("GET", "/widgets/{name}"): Sample({"name": "appointment"}),
}


def sample_for(route: RouteSpec) -> Sample:
    return SAMPLES[(route.method, route.path)]


def route_id(route: RouteSpec) -> str:
    return f"{route.method} {route.path}"


ALL_ROUTES = list(API_ROUTES)
