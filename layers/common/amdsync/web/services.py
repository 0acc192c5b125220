"""What the API needs beyond the sync use cases: AMD lookups, the connection test, the rate
budget. The composition module implements these over the AMD client."""

from __future__ import annotations

from typing import Any, Protocol

from amdsync.domain.audit_query import AuditQuery
from amdsync.domain.journal import AuditEntry
from amdsync.store.alarms import AlarmState
from amdsync.sync.context import SyncContext
from amdsync.sync.failed_work import FailedWorkStore
from amdsync.sync.webhooks import WebhookServices
from amdsync.web.views import BudgetView, ConnectionInfo, ConnectionReport, LookupItem


class AmdAdmin(Protocol):
    def lookup(self, kind: str) -> list[LookupItem]:
        """kind = providers | facilities | appointment-types | reasons (cached 1 h)."""
        ...

    def test_connection(self) -> ConnectionReport: ...
    def budgets(self) -> list[BudgetView]: ...
    def connection_info(self) -> ConnectionInfo: ...
    def appointment_link(self, visit_id: str) -> str | None: ...


class ApiServices(Protocol):
    @property
    def practice(self) -> str: ...

    def context(self) -> SyncContext: ...
    def amd_admin(self) -> AmdAdmin: ...
    def webhooks(self) -> WebhookServices: ...
    def failed_work(self) -> FailedWorkStore: ...
    def audit_log(self) -> AuditLog: ...
    def alarm_states(self) -> list[AlarmState]:
        """The stack's CloudWatch alarms and their current states."""
        ...


class AuditLog(Protocol):
    def page(
        self, query: AuditQuery, position: dict[str, Any] | None, limit: int
    ) -> tuple[list[AuditEntry], dict[str, Any] | None]:
        """Newest first; raises ValueError for a position it did not hand out."""
        ...
