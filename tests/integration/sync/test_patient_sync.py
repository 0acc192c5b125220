"""Patient sync on moto + the simulator: every demographic reaches AMD (read back through the
simulator's admin API), and the newest EHR registration wins however PUTs and syncs interleave."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from typing import Any

from amdsync.domain.patients import PatientDemographics
from amdsync.sync.context import SyncContext
from amdsync.sync.intake import Intake
from amdsync.sync.patients import PatientSync
from tests.integration.sync.conftest import PATIENT_DOB, PATIENT_NAME, World
from tests.integration.sync.invariants import assert_sim_clean, calls

NEWER_LAST = "QUILLWRIGHT"


def _demographics(version: int, **overrides: Any) -> PatientDemographics:
    values: dict[str, Any] = {
        "firstName": PATIENT_NAME[0],
        "lastName": PATIENT_NAME[1],
        "dateOfBirth": PATIENT_DOB,
        "sex": "F",
        "phone": "5555550142",
        "address": {"line1": "7 Lark Lane", "city": "Ogden", "state": "UT", "zip": "84401"},
        "ehrVersion": version,
        **overrides,
    }
    return PatientDemographics.model_validate(values)


class _Interleaved:
    """The real repository, with a concurrent writer run just before one call of `method`."""

    def __init__(self, inner: Any, method: str, action: Callable[[], object]) -> None:
        self._inner, self._method = inner, method
        self._action: Callable[[], object] | None = action

    def __getattr__(self, name: str) -> Any:
        target = getattr(self._inner, name)
        action = self._action
        if name != self._method or action is None:
            return target

        def interleaved(*args: Any, **kwargs: Any) -> Any:
            self._action = None
            action()
            return target(*args, **kwargs)

        return interleaved


def _interleaved(world: World, method: str, action: Callable[[], object]) -> SyncContext:
    patients = _Interleaved(world.ctx.patients, method, action)
    return dataclasses.replace(world.ctx, patients=patients)


def _amd_patient(world: World, patient_id: str) -> dict[str, Any]:
    stored = world.ctx.patients.get(patient_id)
    assert stored is not None and stored.value.advanced_md_patient_id
    return world.sim.admin.patient(int(stored.value.advanced_md_patient_id))


def _synced_at(world: World, patient_id: str, version: int) -> None:
    stored = world.ctx.patients.get(patient_id)
    assert stored is not None
    assert (stored.value.amd_sync_status, stored.value.ehr_version) == ("synced", version)
    assert world.ctx.patients.get_demographics(patient_id) is None  # held only until synced


def test_phone_and_address_changes_reach_amd(world: World) -> None:
    patient = world.id("P")
    world.register_patient(patient)
    world.drain()
    moved = {"line1": "12 Heron Way", "city": "Provo", "state": "UT", "zip": "84601"}
    changed = _demographics(2, phone="8015550199", address=moved)
    assert Intake(world.ctx).register_patient(patient, changed).applied

    world.drain()

    amd = _amd_patient(world, patient)
    assert re.sub(r"\D", "", amd["contactinfo"]["homephone"]) == "8015550199"
    street, city, state, zip_code = (
        amd["address"][k] for k in ("address2", "city", "state", "zip")
    )
    assert (street, city, state, zip_code.strip()) == ("12 HERON WAY", "PROVO", "UT", "84601")
    assert amd["name"] == f"{PATIENT_NAME[1]},{PATIENT_NAME[0]}"
    _synced_at(world, patient, 2)
    report = world.report()
    assert calls(report, "addpatient") == 1 and calls(report, "updatepatient") == 1
    assert_sim_clean(report)


def test_an_older_registration_arriving_last_loses_to_the_newer(world: World) -> None:
    patient = world.id("P")
    # The older PUT has read the record when the newer one is stored in full.
    newer = lambda: world.register_patient(patient, last=NEWER_LAST, version=2)  # noqa: E731
    ctx = _interleaved(world, "put_demographics", newer)
    world.registered_names |= {PATIENT_NAME[1]}

    older = Intake(ctx).register_patient(patient, _demographics(1))

    held = world.ctx.patients.get_demographics(patient)
    assert held is not None and held.ehr_version == 2
    assert older.stale and not older.applied
    world.drain()
    assert _amd_patient(world, patient)["name"] == f"{NEWER_LAST},{PATIENT_NAME[0]}"
    _synced_at(world, patient, 2)
    assert calls(world.report(), "addpatient") == 1


def test_a_registration_during_the_sync_is_kept_and_synced_next(world: World) -> None:
    patient = world.id("P")
    world.register_patient(patient)
    # The newer PUT lands after version 1 reached AMD, before the sync forgets what it sent.
    newer = lambda: world.register_patient(patient, last=NEWER_LAST, version=2)  # noqa: E731
    PatientSync(_interleaved(world, "forget_demographics", newer)).run(patient)

    held = world.ctx.patients.get_demographics(patient)
    assert held is not None and held.ehr_version == 2
    amd = _amd_patient(world, patient)
    assert amd["name"] == f"{PATIENT_NAME[1]},{PATIENT_NAME[0]}"  # version 1 so far

    world.drain()
    assert _amd_patient(world, patient)["name"] == f"{NEWER_LAST},{PATIENT_NAME[0]}"
    _synced_at(world, patient, 2)
    report = world.report()
    assert calls(report, "addpatient") == 1 and calls(report, "updatepatient") == 1
