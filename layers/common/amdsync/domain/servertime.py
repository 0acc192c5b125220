"""AMD `servertime`: the pull watermark, kept verbatim (PROTOCOL §3.14, §4.4)."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import GetCoreSchemaHandler
from pydantic_core import core_schema

from amdsync.domain.textparse import TimeFormatError, parse_iso, parse_vb, require_text


def parse_servertime(text: str) -> datetime:
    """The naive reading of an AMD `servertime` (AMD's clock; never shifted to another zone).

    Accepts `2025-03-14T09:11:00.987`, an unpadded hour `2015-03-24T8:25:28.730`, no
    milliseconds, and the VB long form.
    """
    expected = "YYYY-MM-DDTH:MM:SS[.fff] or M/D/YYYY h:mm:ss AM/PM"
    text = require_text("servertime", text, expected)
    parsed = parse_iso("servertime", text) or parse_vb("servertime", text)
    if parsed is None:
        raise TimeFormatError("servertime", text, expected)
    return parsed


def format_servertime(wall_time: datetime) -> str:
    """A naive wall time on AMD's clock in the form AMD writes its `servertime`
    (`YYYY-MM-DDThh:mm:ss.mmm`), e.g. for a watermark an operator asks for."""
    if wall_time.tzinfo is not None:
        raise ValueError("a servertime is a wall time on AMD's clock: pass it naive")
    return f"{wall_time:%Y-%m-%dT%H:%M:%S}.{wall_time.microsecond // 1000:03d}"


@functools.total_ordering
@dataclass(frozen=True, eq=False)
class ServerTime:
    """An AMD `servertime`, kept verbatim for echoing as the next `datechanged` (§3.14).

    `raw` and `str()` give the exact original text; comparison, ordering and hashing use the
    parsed value, so padded and unpadded spellings of the same moment are equal. Usable as a
    pydantic field: validates from a string, serializes back to `raw`.
    """

    raw: str
    value: datetime = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "value", parse_servertime(self.raw))

    parse_servertime = staticmethod(parse_servertime)

    def __str__(self) -> str:
        return self.raw

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ServerTime):
            return NotImplemented
        return self.value == other.value

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, ServerTime):
            return NotImplemented
        return self.value < other.value

    def __hash__(self) -> int:
        return hash(self.value)

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source_type: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        from_text = core_schema.no_info_after_validator_function(cls, core_schema.str_schema())
        return core_schema.json_or_python_schema(
            json_schema=from_text,
            python_schema=core_schema.union_schema(
                [core_schema.is_instance_schema(cls), from_text]
            ),
            serialization=core_schema.plain_serializer_function_ser_schema(str),
        )
