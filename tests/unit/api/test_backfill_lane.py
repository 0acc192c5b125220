"""An EHR's initial import is a backfill (SPEC §9.3: background lane): registrations marked
`AmdSync-Backfill: true` queue in the background lane, so the practice's next real booking,
unmarked, is never queued behind them."""

from __future__ import annotations

from tests.unit.api.samples import APPOINTMENT_BODY, PATIENT_BODY
from tests.unit.api.support import Api

BACKFILL = {"AmdSync-Backfill": "true"}


def test_a_backfill_registration_queues_in_the_background_lane() -> None:
    api = Api()
    patient = api.call(
        "PUT", "/patients/{patientId}", roles=["ehr"], path_params={"patientId": "P-1"},
        body=PATIENT_BODY, headers=BACKFILL,
    )  # fmt: skip
    appointment = api.call(
        "PUT", "/appointments/{appointmentId}", roles=["ehr"],
        path_params={"appointmentId": "A-1"}, body=APPOINTMENT_BODY, headers=BACKFILL,
    )  # fmt: skip
    assert patient.status == appointment.status == 202
    assert [job.lane for job in api.world.queue.sent] == ["background", "background"]


def test_an_ordinary_booking_is_interactive_and_counts_only_its_own_lane_ahead() -> None:
    api = Api()
    for n in range(5):
        api.call(
            "PUT", "/appointments/{appointmentId}", roles=["ehr"],
            path_params={"appointmentId": f"B-{n}"}, body=APPOINTMENT_BODY, headers=BACKFILL,
        )  # fmt: skip
    reply = api.call(
        "PUT", "/appointments/{appointmentId}", roles=["ehr"],
        path_params={"appointmentId": "A-new"}, body=APPOINTMENT_BODY,
    )  # fmt: skip
    assert reply.status == 202
    assert api.world.queue.sent[-1].lane == "interactive"
    assert reply.json()["queuePosition"] == 1  # the five backfilled jobs are not ahead of it
