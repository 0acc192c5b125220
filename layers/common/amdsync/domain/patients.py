"""Patient models: the minimum demographics the EHR registers, and the patient sync record.

Demographics are PHI. Their repr/str show no values, and validation errors do not echo the
input, so neither a stray log line nor an error message can leak a name or a date of birth.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, Final, Literal

from pydantic import BeforeValidator, ConfigDict, Field, StringConstraints

from amdsync.domain.base import (
    AmdId,
    DomainModel,
    EhrId,
    EhrVersion,
    NonNegativeStrictInt,
    PrintableText,
    SyncState,
)

_REDACTED: Final = "<redacted>"
# AMD rejects implausible birth dates and has used 1900-01-01 as its "unset" sentinel.
_EARLIEST_DOB: Final = date(1900, 1, 2)
_EASTERNMOST: Final = timedelta(hours=14)


def _iso_date(value: object) -> date:
    """A calendar date from `YYYY-MM-DD` only; pydantic's lax mode would also take numbers
    (epoch seconds) and datetime strings, which are never what the EHR means by a birth date."""
    if isinstance(value, date) and not isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str) and len(value) == 10 and value[4] == "-" and value[7] == "-":
        try:
            parsed = date.fromisoformat(value)
        except ValueError:
            raise ValueError("dateOfBirth is not a valid calendar date") from None
    else:
        raise ValueError("dateOfBirth must be a date in the form YYYY-MM-DD")
    if parsed < _EARLIEST_DOB:
        raise ValueError("dateOfBirth is implausibly early")
    # Future anywhere on Earth: later than today in the easternmost zone (UTC+14).
    if parsed > (datetime.now(UTC) + _EASTERNMOST).date():
        raise ValueError("dateOfBirth is in the future")
    return parsed


IsoDate = Annotated[date, BeforeValidator(_iso_date)]

NameText = Annotated[PrintableText, StringConstraints(max_length=100)]


class _PhiModel(DomainModel):
    model_config = ConfigDict(hide_input_in_errors=True)

    def __repr_args__(self) -> Iterable[tuple[str | None, Any]]:
        # pydantic builds __repr__, __str__ and rich/devtools output from these pairs.
        return [(None, _REDACTED)]


class Address(_PhiModel):
    line1: Annotated[PrintableText, StringConstraints(max_length=100)]
    city: Annotated[PrintableText, StringConstraints(max_length=50)]
    state: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]
    zip: Annotated[str, StringConstraints(pattern=r"^[0-9]{5}(-[0-9]{4})?$")]


class PatientDemographics(_PhiModel):
    """Body of `PUT /patients/{patientId}`: the minimum needed to find or create the AMD patient."""

    first_name: NameText
    last_name: NameText
    date_of_birth: IsoDate
    sex: Literal["M", "F", "U"]
    # Ten digits, no punctuation: AMD formats US numbers itself ("(000) 000-0000").
    phone: Annotated[str, StringConstraints(pattern=r"^[0-9]{10}$")]
    address: Address
    ehr_version: EhrVersion

    def __repr_args__(self) -> Iterable[tuple[str | None, Any]]:
        return [("ehr_version", self.ehr_version), (None, _REDACTED)]

    def fingerprint(self, key: bytes) -> str:
        """HMAC-SHA256 (hex) of the demographic values under `key`, independent of `ehrVersion`.

        Stored on the patient sync record as "what we last sent", so an unchanged re-registration
        costs no AMD call. Only the digest is kept, never the values; it is keyed (the key is a
        secret, PHI_HASH_KEY_SECRET) because a plain hash of a name, birth date, phone and
        address can be recomputed from guesses.
        """
        values = self.model_dump(mode="json", exclude={"ehr_version"})
        canonical = json.dumps(values, sort_keys=True, separators=(",", ":"))
        return hmac.new(key, canonical.encode("utf-8"), hashlib.sha256).hexdigest()


Sha256Hex = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]


class PatientSyncRecord(SyncState):
    """One per EHR patient (SPEC §3). Holds ids and a digest, never demographics."""

    patient_id: EhrId
    advanced_md_patient_id: AmdId | None = Field(default=None, alias="advancedMDPatientId")
    # The ehrVersion of the last demographics registered; older PUTs are ignored, not applied.
    ehr_version: NonNegativeStrictInt | None = None
    # Fingerprint of what was registered under `ehr_version` (synced or not): a PUT reusing that
    # version with other content is refused (SPEC §9.1), a replay of it is a no-op.
    registered_hash: Sha256Hex | None = None
    # Fingerprint of what AMD was last sent: a registration that differs needs an AMD update.
    demographics_hash: Sha256Hex | None = None

    def registered_fingerprint(self) -> str | None:
        """What the EHR registered under `ehr_version`; records written before that was kept
        have only the synced fingerprint, which is that version's once synced."""
        if self.registered_hash is not None:
            return self.registered_hash
        return self.demographics_hash if self.is_synced else None


class PatientCreateIntent(_PhiModel):
    """Who we asked AMD to create, stored before `addpatient` (PHI: its own item, like the
    demographics). A retry after a crash or a lost reply looks AMD up by this identity, not by
    the newest demographics, which the EHR may have renamed meanwhile (no duplicate patient)."""

    first_name: NameText
    last_name: NameText
    date_of_birth: IsoDate
    ehr_version: EhrVersion

    def __repr_args__(self) -> Iterable[tuple[str | None, Any]]:
        return [("ehr_version", self.ehr_version), (None, _REDACTED)]

    @classmethod
    def of(cls, demographics: PatientDemographics) -> PatientCreateIntent:
        return cls(
            first_name=demographics.first_name,
            last_name=demographics.last_name,
            date_of_birth=demographics.date_of_birth,
            ehr_version=demographics.ehr_version,
        )
