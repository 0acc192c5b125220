"""Human and JSON output for the `amdsync` CLI (kept apart so commands stay short)."""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping, Sequence
from typing import Any, TextIO


class Printer:
    def __init__(
        self, *, as_json: bool, stdout: TextIO | None = None, stderr: TextIO | None = None
    ) -> None:
        self.as_json = as_json
        self._out = stdout or sys.stdout
        self._err = stderr or sys.stderr

    def emit(self, data: Any, human: str) -> None:
        if self.as_json:
            self._out.write(json.dumps(data, indent=2, default=str) + "\n")
        else:
            self._out.write(human.rstrip("\n") + "\n")

    def fail(self, message: str) -> None:
        if self.as_json:
            self._out.write(json.dumps({"ok": False, "error": message}) + "\n")
        self._err.write(message + "\n")


# AMD's change flags (PROTOCOL §3.14): `D` may also mean a charge was posted (§7.10).
UPDATE_WORDS: Mapping[str, str] = {
    "N": "new",
    "C": "changed",
    "D": "deleted or charged",
}


def update_words(flag: str | None) -> str:
    if not flag:
        return ""
    return UPDATE_WORDS.get(flag.upper(), f"unknown flag {flag}")


def render_rows(
    rows: Sequence[dict[str, Any]],
    columns: Sequence[str],
    headers: Mapping[str, str] | None = None,
) -> str:
    """A plain table of `columns`; `headers` renames a column's heading (key -> shown)."""
    if not rows:
        return "(none)"
    names = [(headers or {}).get(c, c) for c in columns]
    cells = [[_cell(row.get(c)) for c in columns] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(names)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(names, widths, strict=True))]
    lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)) for r in cells]
    lines.append(f"{len(rows)} rows")
    return "\n".join(line.rstrip() for line in lines)


def render_limits(rows: Sequence[dict[str, Any]]) -> str:
    if not rows:
        return "(none)"
    period = "peak" if rows[0]["peak"] else "off-peak"
    header = f"AdvancedMD rate budgets this minute ({period}, America/Denver):"
    body = [
        f"  {r['budget']:<5} {r['used']:>4} / {r['limit']:<4} resets in {r['resets_in']:.0f}s"
        for r in rows
    ]
    return "\n".join([header, *body])


def _cell(value: Any) -> str:
    return "" if value is None else str(value)
