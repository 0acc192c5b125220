"""web/etags.py: the one place ETag headers are read (If-Match on writes, If-None-Match on the
sync-status reads)."""

from __future__ import annotations

import pytest

from amdsync.web.etags import etag_of, not_modified, require_current
from amdsync.web.problems import Problem

TAG = etag_of('{"status": "synced"}')
OTHER = etag_of('{"status": "pending"}')


def assert_precondition_failed(headers: dict[str, str], current: str | None) -> None:
    with pytest.raises(Problem) as raised:
        require_current(headers, lambda: current)
    assert raised.value.status == 412
    assert raised.value.code == "PRECONDITION_FAILED"


def test_not_modified_when_if_none_match_lists_the_tag() -> None:
    assert not_modified({"If-None-Match": f"{OTHER}, {TAG}"}, TAG)
    assert not_modified({"if-none-match": TAG}, TAG)


def test_modified_without_the_header_or_with_other_tags() -> None:
    assert not not_modified({}, TAG)
    assert not not_modified({"If-None-Match": OTHER}, TAG)
    assert not not_modified({"If-None-Match": ""}, TAG)


def _checked(headers: dict[str, str], current: str | None) -> int:
    """How often `require_current` read the resource's tag (it raised nothing)."""
    reads: list[str | None] = []

    def read() -> str | None:
        reads.append(current)
        return current

    require_current(headers, read)
    return len(reads)


def test_require_current_reads_nothing_without_if_match() -> None:
    assert _checked({"If-None-Match": TAG}, TAG) == 0


def test_require_current_passes_on_the_current_tag_or_star_after_one_read() -> None:
    assert _checked({"If-Match": f"{OTHER}, {TAG}"}, TAG) == 1
    assert _checked({"If-Match": "*"}, TAG) == 1


def test_require_current_refuses_a_stale_tag_or_a_missing_resource() -> None:
    assert_precondition_failed({"If-Match": OTHER}, TAG)
    assert_precondition_failed({"If-Match": "*"}, None)
