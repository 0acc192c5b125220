"""AMD servertime: kept verbatim for the pull watermark, compared by value (PROTOCOL §3.14)."""

from datetime import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from amdsync.domain.timefmt import ServerTime, TimeFormatError, parse_servertime

SAMPLES = {
    "2025-03-14T09:11:00.987": datetime(2025, 3, 14, 9, 11, 0, 987_000),
    "2015-03-24T8:25:28.730": datetime(2015, 3, 24, 8, 25, 28, 730_000),
    "2025-03-14T09:11:00": datetime(2025, 3, 14, 9, 11, 0),
    "3/14/2025 9:11:00 AM": datetime(2025, 3, 14, 9, 11, 0),
    "3/14/2025 9:11:00 PM": datetime(2025, 3, 14, 21, 11, 0),
    "2025-03-14T09:11:00.1234567": datetime(2025, 3, 14, 9, 11, 0, 123_456),
}


@pytest.mark.parametrize(("text", "value"), SAMPLES.items())
def test_parse_servertime_forms(text, value):
    assert parse_servertime(text) == value
    assert parse_servertime(text).tzinfo is None


@pytest.mark.parametrize("text", SAMPLES)
def test_servertime_keeps_the_text_verbatim(text):
    stamp = ServerTime(text)
    assert stamp.raw == text
    assert str(stamp) == text
    assert f"{stamp}" == text
    assert stamp.value == SAMPLES[text]


class Watermark(BaseModel):
    datechanged: ServerTime


@pytest.mark.parametrize("text", SAMPLES)
def test_servertime_survives_pydantic_json_round_trip_verbatim(text):
    stored = Watermark.model_validate_json(f'{{"datechanged": "{text}"}}')
    assert stored.model_dump_json() == f'{{"datechanged":"{text}"}}'
    assert stored.model_dump() == {"datechanged": text}
    assert Watermark(datechanged=ServerTime(text)).datechanged.raw == text


def test_invalid_servertime_in_a_model_is_a_validation_error():
    with pytest.raises(ValidationError):
        Watermark.model_validate({"datechanged": "yesterday"})
    with pytest.raises(ValidationError):
        Watermark.model_validate({"datechanged": 20250314})


def test_ordering_is_by_value_not_by_text():
    unpadded = ServerTime("2015-03-24T8:25:28.730")
    later = ServerTime("2015-03-24T10:00:00")
    assert "2015-03-24T8:25:28.730" > "2015-03-24T10:00:00"  # why text order is useless
    assert unpadded < later
    assert max(unpadded, later) is later
    assert sorted([later, unpadded]) == [unpadded, later]


def test_equal_moments_are_equal_and_hash_alike_but_keep_their_own_text():
    a = ServerTime("2015-03-24T8:25:28.730")
    b = ServerTime("2015-03-24T08:25:28.730")
    assert a == b
    assert hash(a) == hash(b)
    assert len({a, b}) == 1
    assert (a.raw, b.raw) == ("2015-03-24T8:25:28.730", "2015-03-24T08:25:28.730")
    assert a != "2015-03-24T8:25:28.730"


def test_servertime_is_immutable():
    stamp = ServerTime("2025-03-14T09:11:00.987")
    with pytest.raises(AttributeError):
        stamp.raw = "2025-03-14T09:12:00"  # type: ignore[misc]


@pytest.mark.parametrize(
    "text",
    [
        "",
        "2025-03-14",
        "2025-03-14T09:11:00Z",
        "2025-03-14T09:11:00.987+00:00",
        "now",
        "2025-02-30T09:11:00",
    ],
)
def test_malformed_servertime_raises(text):
    with pytest.raises(TimeFormatError):
        ServerTime(text)
    with pytest.raises(ValueError):
        parse_servertime(text)


@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)))
def test_any_iso_spelling_parses_back_and_is_kept_as_given(moment):
    moment = moment.replace(microsecond=moment.microsecond // 1000 * 1000)
    text = f"{moment:%Y-%m-%d}T{moment.hour}:{moment:%M:%S}.{moment.microsecond // 1000:03d}"
    stamp = ServerTime(text)
    assert stamp.value == moment
    assert stamp.raw == text
    assert ServerTime.parse_servertime(text) == moment
