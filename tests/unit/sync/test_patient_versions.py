"""Patient registrations under concurrency and the `ehrVersion` contract (SPEC §9.1).

A newer registration always wins, whatever order the PUTs and the sync interleave in: an older
PUT arriving last never overwrites the held demographics, and the sync forgets only the
demographics it sent, so a registration arriving mid-sync keeps its own and is synced next.
"""

from __future__ import annotations

import hashlib
import json

import pytest

from amdsync.domain.concurrency import VersionReusedError
from amdsync.sync.intake import Intake
from amdsync.sync.worker import JobProcessor
from tests.fakes import PHI_HASH_KEY, World
from tests.unit.sync.helpers import PATIENT, demographics, drain, register_patient

NEWER = {"lastName": "Lovelace", "phone": "8015550199"}


def _amd_patient(world: World) -> tuple[str, str]:
    (patient,) = world.amd.patients.values()  # exactly one AMD patient, never a duplicate
    return patient.last_name, patient.phone


def _register_newer(world: World) -> None:
    Intake(world.ctx).register_patient(PATIENT, demographics(2, **NEWER))


def test_an_older_registration_arriving_last_never_reaches_amd(world: World) -> None:
    # The older PUT reads the record, then the newer PUT is stored before the older one writes.
    world.patients.before_next("put_demographics", lambda: _register_newer(world))
    older = register_patient(world, version=1)

    held = world.patients.get_demographics(PATIENT)
    assert held is not None and held.ehr_version == 2
    assert not older.applied and older.stale
    drain(world)
    assert _amd_patient(world) == ("LOVELACE", "8015550199")
    assert world.patients.record(PATIENT).ehr_version == 2
    assert world.patients.get_demographics(PATIENT) is None


def test_a_registration_during_the_sync_keeps_its_demographics_until_it_is_synced(
    world: World,
) -> None:
    register_patient(world, version=1)
    # The newer PUT lands after the sync sent version 1 to AMD, before it forgets what it sent.
    world.patients.before_next("forget_demographics", lambda: _register_newer(world))
    first_job = world.queue.take()  # the version 1 job only
    assert first_job is not None
    JobProcessor(world.ctx).process(first_job)

    held = world.patients.get_demographics(PATIENT)
    assert held is not None and held.ehr_version == 2
    assert world.patients.record(PATIENT).amd_sync_status == "pending"
    drain(world)
    assert _amd_patient(world) == ("LOVELACE", "8015550199")
    record = world.patients.record(PATIENT)
    assert record.is_synced and record.ehr_version == 2
    assert world.patients.get_demographics(PATIENT) is None


def test_a_registration_while_the_patient_is_created_never_duplicates_it(world: World) -> None:
    register_patient(world, version=1)
    # The newer PUT lands between AMD's create and the sync's record write.
    world.patients.before_next_save(lambda: _register_newer(world))
    drain(world)

    assert _amd_patient(world) == ("LOVELACE", "8015550199")
    assert world.amd.count("add_patient") == 1
    record = world.patients.record(PATIENT)
    assert record.is_synced and record.ehr_version == 2
    assert world.patients.get_demographics(PATIENT) is None


def test_the_same_version_with_the_same_content_is_an_idempotent_no_op(world: World) -> None:
    assert register_patient(world, version=1).applied
    again = register_patient(world, version=1)
    assert not again.applied and not again.stale
    assert [j.version for j in world.queue.sent] == [1]


@pytest.mark.parametrize("synced_first", [False, True])
def test_the_same_version_with_other_content_is_refused_as_reused(
    world: World, synced_first: bool
) -> None:
    register_patient(world, version=1)
    if synced_first:
        drain(world)
    before = world.patients.items[PATIENT]
    with pytest.raises(VersionReusedError):
        register_patient(world, version=1, phone="8015550199")
    assert world.patients.items[PATIENT] == before
    held = world.patients.get_demographics(PATIENT)
    assert held is None if synced_first else held is not None and held.phone == "5555550100"


def test_a_lower_version_is_stale_and_changes_nothing(world: World) -> None:
    register_patient(world, version=3)
    before = world.patients.items[PATIENT]
    stale = register_patient(world, version=2, phone="8015550199")
    assert stale.stale and not stale.applied
    assert world.patients.items[PATIENT] == before
    held = world.patients.get_demographics(PATIENT)
    assert held is not None and held.ehr_version == 3


def test_unchanged_content_at_a_higher_version_is_recorded_without_a_job(world: World) -> None:
    register_patient(world, version=1)
    drain(world)
    jobs = len(world.queue.sent)
    again = register_patient(world, version=2)
    assert not again.applied and world.patients.record(PATIENT).ehr_version == 2
    assert len(world.queue.sent) == jobs
    # Version 2 is now taken: other content under it is a reused version.
    with pytest.raises(VersionReusedError):
        register_patient(world, version=2, phone="8015550199")


def test_phone_and_address_changes_reach_amd(world: World) -> None:
    register_patient(world, version=1)
    drain(world)
    moved = {"line1": "9 Oak Ave", "city": "Ogden", "state": "UT", "zip": "84401"}
    assert register_patient(world, version=2, phone="8015550199", address=moved).applied
    drain(world)
    (patient,) = world.amd.patients.values()
    assert patient.phone == "8015550199"
    assert patient.address == ("9 OAK AVE", "OGDEN", "UT", "84401")
    assert world.patients.record(PATIENT).is_synced


def test_the_record_keeps_the_contexts_keyed_fingerprint_never_a_plain_hash(world: World) -> None:
    """Intake and the patient sync fingerprint with the context's key (issue 16): the stored
    digests are HMACs that cannot be recomputed from guessed demographics without the key."""
    register_patient(world, version=1)
    drain(world)
    record = world.patients.record(PATIENT)
    sent = demographics(1)
    assert record.registered_hash == record.demographics_hash == world.ctx.fingerprint(sent)
    assert record.demographics_hash == sent.fingerprint(PHI_HASH_KEY)
    canonical = json.dumps(
        sent.model_dump(mode="json", exclude={"ehr_version"}), sort_keys=True, separators=(",", ":")
    )
    assert record.demographics_hash != hashlib.sha256(canonical.encode("utf-8")).hexdigest()
