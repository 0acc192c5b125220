"""RFC 7396 JSON merge patch: what `PATCH /settings` applies (SPEC §9.1)."""

from __future__ import annotations

from typing import Any


def merge_patch(target: Any, patch: Any) -> Any:
    """`patch` applied to `target`: objects merge member by member, `null` removes a member
    (so a setting falls back to its default), anything else replaces the value whole."""
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for name, value in patch.items():
        if value is None:
            result.pop(name, None)
        else:
            result[name] = merge_patch(result.get(name), value)
    return result
