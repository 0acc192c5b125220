import pytest
from pydantic import ValidationError

from amdsync.jobs import SyncJob


def test_job_identity_serialises_per_entity_and_dedups_per_version() -> None:
    job = SyncJob.model_validate(
        {"kind": "appointment", "entityId": "A-1", "version": 3, "practice": "999999"}
    )
    assert job.group_id == "appointment#A-1"
    assert job.dedup_id == "appointment#A-1#v3"


@pytest.mark.parametrize(
    "body",
    [
        {"kind": "visit", "entityId": "A-1", "version": 1, "practice": "p"},
        {"kind": "appointment", "entityId": "", "version": 1, "practice": "p"},
        {"kind": "appointment", "entityId": "A-1", "version": -1, "practice": "p"},
        {"kind": "appointment", "entityId": "A-1", "version": 1, "practice": "p", "x": 1},
    ],
)
def test_malformed_jobs_are_rejected(body: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        SyncJob.model_validate(body)
