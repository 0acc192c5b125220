"""SPEC §9.4 failed work over the API: list (paged, no PHI), retry one (interactive lane),
retry all (background lane, 202 {queued}), discard with a reason (422 without); all audited."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.unit.api.ops_support import OpsApi, ops_api

RETRY = "/sync/failed/{jobId}/retry"
ONE = "/sync/failed/{jobId}"
FIELDS = {"jobId", "entityType", "entityId", "failedAt", "attempts", "errorCode", "error"}


@pytest.fixture
def ops(monkeypatch: pytest.MonkeyPatch) -> Iterator[OpsApi]:
    yield from ops_api(monkeypatch)


def test_lists_dead_lettered_jobs_newest_first_with_exactly_the_contract_fields(
    ops: OpsApi,
) -> None:
    older = ops.add_failure("A-1")
    newer = ops.add_failure("P-9", kind="patient", code="INTERNAL")

    reply = ops.api.call("GET", "/sync/failed", roles="[billing]")

    assert reply.status == 200, reply.text
    items = reply.json()["items"]
    assert [i["jobId"] for i in items] == [newer.job_id, older.job_id]
    assert all(set(i) == FIELDS for i in items)
    first = items[0]
    assert (first["entityType"], first["entityId"], first["attempts"]) == ("patient", "P-9", 6)
    assert first["errorCode"] == "INTERNAL"
    assert first["error"] == "An unexpected error kept stopping this sync."
    assert reply.json()["nextCursor"] is None


def test_pages_with_an_opaque_cursor_until_every_job_was_seen(ops: OpsApi) -> None:
    made = [ops.add_failure(f"A-{n}").job_id for n in range(5)]
    seen: list[str] = []
    cursor: str | None = None
    for _ in range(5):
        query = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        body = ops.api.call("GET", "/sync/failed", roles="[billing]", query=query).json()
        assert len(body["items"]) <= 2
        seen += [i["jobId"] for i in body["items"]]
        cursor = body["nextCursor"]
        if cursor is None:
            break
    assert seen == list(reversed(made))


def test_a_cursor_this_api_did_not_issue_is_400(ops: OpsApi) -> None:
    reply = ops.api.call("GET", "/sync/failed", query={"cursor": "bm90LWEtam9iLWlk"})
    reply.assert_problem(400, "BAD_CURSOR")


def test_retry_requeues_on_the_interactive_lane_removes_the_item_and_audits(ops: OpsApi) -> None:
    failed = ops.add_failure("A-7")

    reply = ops.api.call("POST", RETRY, roles="[billing]", path_params={"jobId": failed.job_id})

    assert reply.status == 202, reply.text
    assert reply.json() == {
        "jobId": failed.job_id,
        "entityType": "appointment",
        "entityId": "A-7",
        "lane": "interactive",
    }
    [sent] = ops.api.world.queue.sent
    assert (sent.entity_id, sent.version, sent.lane) == ("A-7", 3, "interactive")
    assert sent.dedup_id != failed.job.dedup_id  # not swallowed by SQS's dedup window
    assert ops.failed.get(failed.job_id) is None
    [entry] = _audit(ops, "failed_work_retry")
    assert (entry["entityType"], entry["entityId"]) == ("appointment", "A-7")
    assert entry["actor"] == {"subject": "user-1", "role": "billing"}
    assert entry["details"] == {"jobId": failed.job_id}


def test_retry_of_an_unknown_job_is_404_and_queues_nothing(ops: OpsApi) -> None:
    reply = ops.api.call("POST", RETRY, path_params={"jobId": "20261201T100000000-0a0b0c0d"})
    reply.assert_problem(404, "FAILED_JOB_NOT_FOUND")
    assert ops.api.world.queue.sent == []


def test_retry_all_is_admin_only_202_with_the_count_on_the_background_lane(ops: OpsApi) -> None:
    for n in range(3):
        ops.add_failure(f"A-{n}")

    ops.api.call("POST", "/sync/failed/retry-all", roles="[billing]").assert_problem(403)
    reply = ops.api.call("POST", "/sync/failed/retry-all", roles="[admin]")

    assert reply.status == 202, reply.text
    assert reply.json() == {"queued": 3}
    assert sorted(j.entity_id for j in ops.api.world.queue.sent) == ["A-0", "A-1", "A-2"]
    assert {j.lane for j in ops.api.world.queue.sent} == {"background"}
    assert ops.failed.page(None, 10) == ([], None)
    [entry] = _audit(ops, "failed_work_retry_all")
    assert entry["details"] == {"queued": 3}


def test_discard_needs_a_reason(ops: OpsApi) -> None:
    failed = ops.add_failure("A-3")
    job = {"jobId": failed.job_id}

    ops.api.call("DELETE", ONE, path_params=job).assert_problem(422)
    ops.api.call("DELETE", ONE, path_params=job, body={}).assert_problem(422)
    ops.api.call("DELETE", ONE, path_params=job, body={"reason": "   "}).assert_problem(422)
    ops.api.call("DELETE", ONE, path_params=job, body={"reason": "x", "extra": 1}).assert_problem(
        422
    )

    assert ops.failed.get(failed.job_id) is not None
    assert _audit(ops, "failed_work_discard") == []


def test_discard_removes_the_job_without_queueing_and_audits_the_reason(ops: OpsApi) -> None:
    failed = ops.add_failure("A-4")
    job = {"jobId": failed.job_id}

    ops.api.call(
        "DELETE", ONE, path_params=job, roles="[billing]", body={"reason": "x"}
    ).assert_problem(403)
    reply = ops.api.call(
        "DELETE", ONE, path_params=job, body={"reason": "Visit was deleted in the EHR"}
    )

    assert reply.status == 200, reply.text
    assert reply.json()["discarded"] is True
    assert ops.failed.get(failed.job_id) is None
    assert ops.api.world.queue.sent == []
    [entry] = _audit(ops, "failed_work_discard")
    assert entry["details"] == {"jobId": failed.job_id, "reason": "Visit was deleted in the EHR"}
    ops.api.call("DELETE", ONE, path_params=job, body={"reason": "again"}).assert_problem(404)


def test_provider_and_ehr_may_not_see_failed_work(ops: OpsApi) -> None:
    ops.add_failure("A-5")
    for role in ("[provider]", "[ehr]"):
        ops.api.call("GET", "/sync/failed", roles=role).assert_problem(403, "FORBIDDEN")


def _audit(ops: OpsApi, action: str) -> list[dict[str, object]]:
    reply = ops.api.call("GET", "/audit", query={"action": action})
    assert reply.status == 200, reply.text
    items: list[dict[str, object]] = reply.json()["items"]
    return items
