"""Failed work (SPEC §9.4): dead-lettered sync jobs - list, retry one, retry all, discard."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from pydantic import BaseModel, ConfigDict, Field, field_validator

from amdsync.failed_jobs import JOB_ID_PATTERN, FailedJob
from amdsync.sync.failed_work import Actor, FailedJobNotFound, FailedWork
from amdsync.web.context import caller_of, services_of
from amdsync.web.cursors import bad_cursor, decode_position, encode_position
from amdsync.web.paging import check_limit
from amdsync.web.problems import Problem
from amdsync.web.routes import BASE_PATH
from amdsync.web.views import View, documented

router = APIGatewayHttpRouter()  # type: ignore[no-untyped-call]
_JOB_ID = re.compile(JOB_ID_PATTERN)
# Printable text without control characters or bidi overrides (SPEC §9.2's rule for names).
_REASON = re.compile(r"^[^\x00-\x1f\x7f\u202a-\u202e\u2066-\u2069]+$")


class FailedJobView(View):
    job_id: str = Field(alias="jobId")
    entity_type: str = Field(alias="entityType")
    entity_id: str = Field(alias="entityId")
    failed_at: datetime = Field(alias="failedAt")
    attempts: int
    error_code: str = Field(alias="errorCode")
    error: str


class FailedPage(View):
    items: list[FailedJobView]
    next_cursor: str | None = Field(default=None, alias="nextCursor")


class RetriedView(View):
    job_id: str = Field(alias="jobId")
    entity_type: str = Field(alias="entityType")
    entity_id: str = Field(alias="entityId")
    lane: str


class QueuedView(View):
    queued: int


class DiscardedView(View):
    job_id: str = Field(alias="jobId")
    entity_type: str = Field(alias="entityType")
    entity_id: str = Field(alias="entityId")
    discarded: bool = True


class DiscardRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=200)

    @field_validator("reason")
    @classmethod
    def _printable(cls, value: str) -> str:
        if not value.strip() or not _REASON.match(value):
            raise ValueError("reason must be printable text")
        return value.strip()


def _view(failed: FailedJob) -> FailedJobView:
    return FailedJobView.model_validate(failed.model_dump(mode="json", exclude={"job"}))


def _actor() -> Actor:
    caller = caller_of(router)
    return Actor(caller.subject, caller.primary_role, caller.source_ip, caller.user_agent)


def _actions() -> FailedWork:
    services = services_of(router)
    return FailedWork(services.context(), services.failed_work())


def _known(job_id: str) -> str:
    if not _JOB_ID.match(job_id):
        raise _not_found()
    return job_id


def _not_found() -> Problem:
    return Problem(404, "FAILED_JOB_NOT_FOUND", "No failed job with this id.")


@router.get(
    f"{BASE_PATH}/sync/failed",
    tags=["failed work"],
    summary="Dead-lettered sync jobs, newest first, paged (no PHI: ids and codes)",
)
def list_failed(
    *,
    cursor: Annotated[str | None, Query()] = None,
    limit: Annotated[int | None, Query()] = None,
) -> FailedPage:
    after = decode_position(cursor)
    if after is not None and not (isinstance(after, str) and _JOB_ID.match(after)):
        raise bad_cursor()
    jobs, last = services_of(router).failed_work().page(after, check_limit(limit))
    return FailedPage(
        items=[_view(j) for j in jobs], next_cursor=encode_position(last) if last else None
    )


@router.post(
    f"{BASE_PATH}/sync/failed/retry-all",
    tags=["failed work"],
    summary="Re-queue every failed job (background lane); audited",
    responses=documented(202, QueuedView, "How many jobs were queued again"),
)
def retry_all() -> Response[str]:
    queued = _actions().retry_all(_actor())
    return Response(202, "application/json", QueuedView(queued=queued).model_dump_json())


@router.post(
    f"{BASE_PATH}/sync/failed/<jobId>/retry",
    tags=["failed work"],
    summary="Re-queue one failed job (interactive lane); audited",
    responses=documented(202, RetriedView, "The job, queued again"),
)
def retry_one(jobId: str) -> Response[str]:
    try:
        failed = _actions().retry(_known(jobId), _actor())
    except FailedJobNotFound:
        raise _not_found() from None
    view = RetriedView(
        job_id=failed.job_id,
        entity_type=failed.entity_type,
        entity_id=failed.entity_id,
        lane="interactive",
    )
    return Response(202, "application/json", view.model_dump_json())


@router.delete(
    f"{BASE_PATH}/sync/failed/<jobId>",
    tags=["failed work"],
    summary="Discard one failed job with a reason (body {reason}); audited",
)
def discard(jobId: str, body: Annotated[DiscardRequest, Body()]) -> DiscardedView:
    try:
        failed = _actions().discard(_known(jobId), body.reason, _actor())
    except FailedJobNotFound:
        raise _not_found() from None
    return DiscardedView(
        job_id=failed.job_id, entity_type=failed.entity_type, entity_id=failed.entity_id
    )
