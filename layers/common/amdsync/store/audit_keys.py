"""Keys of the audit table's entity index (the month partitions are `keys.audit_month`)."""

from __future__ import annotations


def audit_entity(practice: str, entity_type: str, entity_id: str) -> str:
    return f"{practice}#AUDITENTITY#{entity_type}#{entity_id}"
