"""Shared model configuration, constrained field types and the sync-state fields.

Python attributes are snake_case; JSON uses the seed's camelCase names (SPEC §3, §4) through
aliases. Both spellings validate, and dumps use the JSON names by default, so
`model_dump(by_alias=True)`, `model_dump()` and `model_dump_json()` all speak the API's names.
"""

from __future__ import annotations

import string
import unicodedata
from typing import Annotated, Literal, Self

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictInt,
    StringConstraints,
    model_validator,
)
from pydantic.alias_generators import to_camel

from amdsync.domain.errors import SyncErrorCode
from amdsync.domain.localtime import zone_of
from amdsync.domain.timefmt import normalize_local_iso


class DomainModel(BaseModel):
    """Base of every domain model: immutable, camelCase on the wire, unknown fields rejected."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
        frozen=True,
        extra="forbid",
        # Validators are built on a model's first use, not at import: a cold start builds only
        # what its first request touches (issue 15 item 6).
        defer_build=True,
    )


# Ids end up in DynamoDB keys ("practice#appointment") and in logs, so the alphabet excludes
# separators, whitespace and anything that would need escaping.
EhrId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$")]

_AMD_ID_MAX_DIGITS = 18


def normalize_amd_id(value: object) -> str:
    """AMD ids as stored: digits only, type prefix (`pat148`, `ap_type13`) and padding removed.

    PROTOCOL §1.6: replies may prefix ids and pad values; prefixes are optional in requests.
    """
    if isinstance(value, bool):
        raise ValueError("an AMD id must be a number or a numeric string, not a boolean")
    if isinstance(value, int):
        text = str(value)
    elif isinstance(value, str):
        text = value.strip().lstrip(string.ascii_letters + "_")
    else:
        raise ValueError("an AMD id must be a number or a numeric string")
    if not (text.isascii() and text.isdigit()) or len(text) > _AMD_ID_MAX_DIGITS:
        raise ValueError(
            "an AMD id must be digits, optionally after a type prefix such as 'pat' or 'prof'"
        )
    return text


AmdId = Annotated[str, BeforeValidator(normalize_amd_id)]


def _check_zone(name: str) -> str:
    zone_of(name)  # raises UnknownTimeZoneError, a ValueError, for unknown names
    return name


IanaTimeZone = Annotated[str, AfterValidator(_check_zone)]

# Naive practice-local wall time, stored canonically as YYYY-MM-DDTHH:MM:SS.
LocalIsoDateTime = Annotated[str, AfterValidator(normalize_local_iso)]

# Sanitized, bounded: these messages are shown to users and written to logs.
ErrorMessage = Annotated[str, StringConstraints(max_length=500)]

NonNegativeStrictInt = Annotated[StrictInt, Field(ge=0)]

# The EHR's version counter: 1 ... 2^53 - 1, what every JSON number stays exact for (SPEC §9.2).
MAX_EHR_VERSION = 2**53 - 1
EhrVersion = Annotated[StrictInt, Field(ge=1, le=MAX_EHR_VERSION)]

# Characters a name or address may not hold: control characters (NUL included), format
# characters (bidi overrides and isolates, zero-width joiners), surrogates, private-use and
# unassigned code points, line/paragraph separators.
_UNPRINTABLE = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


def _printable(value: str) -> str:
    if any(unicodedata.category(ch) in _UNPRINTABLE for ch in value):
        raise ValueError("must be printable text (no control, format or bidi-override characters)")
    return value


# Stripped, non-empty, printable text; bound its length where used. Leading `=`, `+`, `-`, `@`
# stay as typed: we never evaluate text, only store it and send it on as text.
PrintableText = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1), AfterValidator(_printable)
]

AmdSyncStatus = Literal["pending", "synced", "error", "conflict"]


class SyncState(DomainModel):
    """How far a record has got on its way to AMD (SPEC §3, shared by patients and appointments).

    Stored records ignore unknown attributes instead of rejecting them, so an older function
    version can still read an item written by a newer one during a deployment.
    """

    model_config = ConfigDict(extra="ignore")

    amd_sync_status: AmdSyncStatus = "pending"
    amd_sync_error: ErrorMessage | None = None
    amd_sync_error_code: SyncErrorCode | None = None
    attempts: NonNegativeStrictInt = 0
    last_synced_to_amd: AwareDatetime | None = Field(default=None, alias="lastSyncedToAMD")

    @model_validator(mode="after")
    def _error_fields_match_status(self) -> Self:
        status = self.amd_sync_status
        if status in ("error", "conflict") and self.amd_sync_error_code is None:
            raise ValueError(f"amdSyncErrorCode is required when amdSyncStatus is {status!r}")
        if status == "synced" and (
            self.amd_sync_error_code is not None or self.amd_sync_error is not None
        ):
            raise ValueError("a synced record carries no amdSyncError/amdSyncErrorCode")
        return self

    @property
    def is_synced(self) -> bool:
        return self.amd_sync_status == "synced"
