"""The alarm-topic notice when the mass-change guard stops a pull (SPEC §6, §7).

One text whoever started the pull (the schedule or the pull button), so operators read and
filter one kind of message. Counts only: nothing about a patient.
"""

from __future__ import annotations

BLOCKED_SUBJECT = "amdsync: pull blocked by the mass-change guard"
BLOCKED_MESSAGE = (
    "A pull would cancel too many upcoming appointments; it was stopped before changing "
    "anything, and the next pull will read the same changes again. "
    "See docs/runbook.md (mass-change guard)."
)
