"""Things a person must look at: conflicts between the two systems, and AMD appointments that
no EHR record knows (recorded for review, never dropped)."""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, Field

from amdsync.domain.appointments import SnapshotValue
from amdsync.domain.base import DomainModel

ResolutionChoice = Literal["ehr", "amd", "merge"]


class ConflictingField(DomainModel):
    ehr: SnapshotValue
    amd: SnapshotValue
    base: SnapshotValue = None


class ConflictRecord(DomainModel):
    """One open (or resolved) conflict per appointment; its id is the appointment id."""

    conflict_id: str = Field(max_length=128)
    appointment_id: str = Field(max_length=128)
    advanced_md_visit_id: str | None = Field(default=None, alias="advancedMDVisitId")
    fields: dict[str, ConflictingField]
    detected_at: AwareDatetime
    state: Literal["open", "resolved"] = "open"
    resolution: ResolutionChoice | None = None
    resolved_by: str | None = None
    resolved_at: AwareDatetime | None = None


class ConflictResolution(DomainModel):
    """Body of `POST /conflicts/{id}/resolve`. `merge` takes per-field choices in `fields`."""

    keep: ResolutionChoice
    fields: dict[str, Literal["ehr", "amd"]] | None = None


class BookingInFlight(DomainModel):
    """A booking we asked AMD for and have not linked yet (between AMD's answer and our claim
    of the visit id). A pull that sees that visit meanwhile knows it is ours, not unlinked."""

    appointment_id: str = Field(max_length=128)
    advanced_md_patient_id: str = Field(alias="advancedMDPatientId")
    start: str  # AMD's practice-local wall time, as booked


class UnlinkedAmdAppointment(DomainModel):
    """An AMD appointment seen by a pull that no EHR appointment maps to."""

    advanced_md_visit_id: str = Field(alias="advancedMDVisitId")
    advanced_md_patient_id: str | None = Field(default=None, alias="advancedMDPatientId")
    start: str | None = None
    amd_status: int | None = None
    first_seen: AwareDatetime
    last_seen: AwareDatetime
