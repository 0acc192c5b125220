"""What the API and the admin UI ask of AdvancedMD itself: lookups for the mapping screens, the
connection test in plain language, the rate budgets and the masked connection details. Built by
`Services.amd_admin()` on first use, so routes that never call AdvancedMD never load it."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlparse

from amdsync.amd.errors import AmdError
from amdsync.web.views import BudgetView, ConnectionInfo, ConnectionReport, LookupItem

if TYPE_CHECKING:
    from amdsync.compose import Services


class AmdAdminService:
    """Lookups, the connection test and the rate budget for the API and the UI."""

    def __init__(self, services: Services) -> None:
        self._services = services

    def lookup(self, kind: str) -> list[LookupItem]:
        lookups = self._services.amd.lookups
        if kind == "providers":
            setup = lookups.scheduler_setup()
            columns: dict[str, list[str]] = {}
            for column in setup.columns:
                if column.profile_id:
                    columns.setdefault(column.profile_id, []).append(column.id)
            return [
                LookupItem(amd_id=p.id, code=p.code, name=p.name, column_ids=columns.get(p.id, []))
                for p in lookups.profiles()
            ]
        if kind == "facilities":
            return [LookupItem(amd_id=f.id, code=f.code, name=f.name) for f in lookups.facilities()]
        if kind == "appointment-types":
            return [
                LookupItem(amd_id=t.id, name=t.name)
                for t in lookups.appointment_types()
                if not t.deleted
            ]
        return [LookupItem(amd_id=r.id, name=r.name) for r in lookups.reasons()]

    def test_connection(self) -> ConnectionReport:
        try:
            report = self._services.amd.test_connection()
        except AmdError as exc:
            return ConnectionReport(ok=False, message=_plain(exc))
        except Exception as exc:
            return ConnectionReport(
                ok=False, message=f"Could not check the connection ({type(exc).__name__})."
            )
        return ConnectionReport(
            ok=report.ok,
            message=report.message,
            provider_count=report.provider_count,
            checks={"login": True, "lookups": True},
        )

    def budgets(self) -> list[BudgetView]:
        return [
            BudgetView(budget=b.budget.value, limit=b.limit, used=b.used, peak=b.peak)
            for b in self._services.amd.client.limiter.snapshot()
        ]

    def connection_info(self) -> ConnectionInfo:
        credentials = self._services.credentials
        return ConnectionInfo(
            office_key=credentials.masked_office_key,
            username=credentials.username,
            app_name=credentials.app_name,
            login_host=urlparse(credentials.partner_login_url).hostname,
        )

    def appointment_link(self, visit_id: str) -> str | None:
        # PROTOCOL.md documents no URL that opens an appointment in AdvancedMD's own screens,
        # and a made-up one only sends people nowhere: no link; the UI shows the visit id to
        # copy into AdvancedMD's search instead.
        del visit_id
        return None


def _plain(exc: AmdError) -> str:
    return {
        "AMD_AUTH_FAILED": "AdvancedMD refused the username, password or office key.",
        "AMD_ACCESS_DENIED": "The AdvancedMD user lacks a permission (it needs the API role).",
    }.get(exc.error_code, f"AdvancedMD could not be reached or refused the check ({exc.meaning}).")
