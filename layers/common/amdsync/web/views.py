"""Response bodies of the API (and their OpenAPI schemas). Field names follow the seed plan."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from amdsync.domain.appointments import AppointmentSyncRecord, SnapshotValue
from amdsync.domain.patients import PatientSyncRecord
from amdsync.sync.estimate import WaitEstimate
from amdsync.sync.reports import ChargesCard, Report, StatusCard, SyncStats


class View(BaseModel):
    # Built on first use, like the domain models (domain/base.py).
    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True, defer_build=True)


class SyncFields(View):
    amd_sync_status: str = Field(alias="amdSyncStatus")
    amd_sync_error: str | None = Field(default=None, alias="amdSyncError")
    amd_sync_error_code: str | None = Field(default=None, alias="amdSyncErrorCode")
    last_synced_to_amd: datetime | None = Field(default=None, alias="lastSyncedToAMD")
    attempts: int = 0


class AppointmentStatusView(SyncFields):
    appointment_id: str = Field(alias="appointmentId")
    patient_id: str = Field(alias="patientId")
    advanced_md_visit_id: str | None = Field(default=None, alias="advancedMDVisitId")
    advanced_md_patient_id: str | None = Field(default=None, alias="advancedMDPatientId")
    advanced_md_provider_id: str | None = Field(default=None, alias="advancedMDProviderId")
    advanced_md_facility_id: str | None = Field(default=None, alias="advancedMDFacilityId")
    provider_id: str = Field(alias="providerId")
    facility_id: str = Field(alias="facilityId")
    appointment_type: str = Field(alias="appointmentType")
    start: str
    time_zone: str = Field(alias="timeZone")
    duration_minutes: int = Field(alias="durationMinutes")
    status: str
    cancel_reason: str | None = Field(default=None, alias="cancelReason")
    ehr_version: int = Field(alias="ehrVersion")
    charges_posted: bool | None = Field(default=None, alias="chargesPosted")
    amd_link: str | None = Field(default=None, alias="amdLink")


class QueuedAppointmentView(AppointmentStatusView):
    queue_position: int | None = Field(default=None, alias="queuePosition")
    estimated_wait_seconds: int | None = Field(default=None, alias="estimatedWaitSeconds")


class PatientStatusView(SyncFields):
    patient_id: str = Field(alias="patientId")
    advanced_md_patient_id: str | None = Field(default=None, alias="advancedMDPatientId")
    ehr_version: int | None = Field(default=None, alias="ehrVersion")


class QueuedPatientView(PatientStatusView):
    queue_position: int | None = Field(default=None, alias="queuePosition")
    estimated_wait_seconds: int | None = Field(default=None, alias="estimatedWaitSeconds")


def appointment_view(record: AppointmentSyncRecord, amd_link: str | None) -> AppointmentStatusView:
    data = record.model_dump(mode="json")
    return AppointmentStatusView.model_validate({**data, "amdLink": amd_link})


def queued_appointment_view(
    record: AppointmentSyncRecord, amd_link: str | None, wait: WaitEstimate | None
) -> QueuedAppointmentView:
    data: dict[str, Any] = {**record.model_dump(mode="json"), "amdLink": amd_link}
    if wait is not None:
        data["queuePosition"] = wait.queue_position
        data["estimatedWaitSeconds"] = wait.estimated_wait_seconds
    return QueuedAppointmentView.model_validate(data)


def patient_view(record: PatientSyncRecord, wait: WaitEstimate | None = None) -> QueuedPatientView:
    data: dict[str, Any] = record.model_dump(mode="json")
    if wait is not None:
        data["queuePosition"] = wait.queue_position
        data["estimatedWaitSeconds"] = wait.estimated_wait_seconds
    return QueuedPatientView.model_validate(data)


class Page(View):
    items: list[dict[str, Any]]
    next_cursor: str | None = Field(default=None, alias="nextCursor")


class BulkJobView(View):
    """SPEC §9.3: `state` planning|running|done|cancelled; `total` once planned (null while
    planning, when `planned` counts the appointments found so far)."""

    job_id: str = Field(alias="jobId")
    from_: date = Field(alias="from")
    to: date
    provider_id: str | None = Field(default=None, alias="providerId")
    mode: str = "sync"
    state: Literal["planning", "running", "done", "cancelled"]
    total: int | None
    planned: int
    done: int
    failed: int
    percent: int
    estimated_wait_seconds: int = Field(alias="estimatedWaitSeconds")
    created_at: datetime = Field(alias="createdAt")
    reconcile: dict[str, int] | None = None


class PullSummaryView(View):
    status: str
    updated: int
    created: int
    cancelled: int
    conflicts: int
    charges: int
    unlinked: int


class PullStartedView(View):
    pull_id: str = Field(alias="pullId")
    state: str


class PullView(View):
    """SPEC §9.3: a manual pull's state (queued|running|done|failed) and, once done, its
    summary `{updated, created, cancelled, conflicts, charges}`."""

    pull_id: str = Field(alias="pullId")
    state: Literal["queued", "running", "done", "failed"]
    requested_at: datetime = Field(alias="requestedAt")
    finished_at: datetime | None = Field(default=None, alias="finishedAt")
    summary: PullSummaryView | None = None
    error_code: str | None = Field(default=None, alias="errorCode")


class ChangeView(View):
    cursor: str
    appointment_id: str | None = Field(default=None, alias="appointmentId")
    advanced_md_visit_id: str = Field(alias="advancedMDVisitId")
    kind: str
    fields: dict[str, SnapshotValue]
    at: datetime


class ChangesPage(View):
    items: list[ChangeView]
    next_cursor: str = Field(alias="nextCursor")


class LookupItem(View):
    amd_id: str = Field(alias="amdId")
    code: str | None = None
    name: str | None = None
    column_ids: list[str] = Field(default_factory=list, alias="columnIds")
    ehr_id: str | None = Field(default=None, alias="ehrId")


class ConnectionReport(View):
    ok: bool
    message: str
    provider_count: int | None = Field(default=None, alias="providerCount")
    checks: dict[str, bool] = Field(default_factory=dict)


class BudgetView(View):
    budget: str
    limit: int
    used: int
    peak: bool


class ConnectionInfo(View):
    office_key: str = Field(alias="officeKey")  # masked, e.g. ••••99
    username: str | None = None
    app_name: str | None = Field(default=None, alias="appName")
    login_host: str | None = Field(default=None, alias="loginHost")


def documented(status: int, model: type[BaseModel], description: str) -> dict[int, Any]:
    """OpenAPI `responses` for a route that returns a hand-built Response (202, ETag, ...)."""
    return {status: {"description": description, "content": {"application/json": {"model": model}}}}


class QueueView(Report):
    depth: int
    estimated_wait_seconds: int = Field(description="How long new work waits, from the budget")


class AlarmView(Report):
    """One of the stack's CloudWatch alarms and its state now (SPEC §7)."""

    name: str
    state: Literal["OK", "ALARM", "INSUFFICIENT_DATA"] | str
    state_text: str = Field(description="The state in words: OK, In alarm, Not enough data")
    description: str
    since: datetime | None


class DashboardView(Report):
    """`GET /sync/dashboard`: each card's total is the sum of its statuses."""

    patients: StatusCard
    appointments: StatusCard
    charges: ChargesCard
    queue: QueueView
    rate_limits: list[BudgetView]
    last_pull: datetime | None
    pull_lag_seconds: float | None
    open_conflicts: int
    # The stack's alarms, alarming first; None when CloudWatch could not be read.
    alarms: list[AlarmView] | None = None


class SyncStatsView(SyncStats):
    """`GET /sync/stats`: the period's sync counts plus the queue as it is now."""

    queue_depth: int
