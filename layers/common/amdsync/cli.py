"""`amdsync`: the operator's command line for AdvancedMD (`python -m amdsync.cli`).

Configuration comes from the environment: AMD_OFFICE_KEY, AMD_USERNAME, AMD_PASSWORD,
AMD_APP_NAME, AMD_TIMEZONE, AMD_PARTNER_LOGIN_URL (default: AMD's partner login), and
optionally AMD_SECRET_NAME (read the credentials from Secrets Manager instead). With
CONTROL_TABLE/CACHE_TABLE set, the token, rate buckets and lookups live in DynamoDB like the
deployed service; otherwise in 0600 files under AMDSYNC_STATE_DIR (default
~/.cache/amdsync), so repeated runs reuse one login. Credentials are never printed.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import SecretStr

from amdsync.amd.client import ClientOptions
from amdsync.amd.config import (
    DEFAULT_TIMEZONE,
    PARTNER_LOGIN_URL,
    AmdCredentials,
    TokenPolicy,
    load_credentials,
)
from amdsync.amd.errors import AmdError, AuthenticationFailed, RateLimited
from amdsync.amd.ports import SystemClock
from amdsync.amd.service import AdvancedMD, build_advancedmd
from amdsync.cli_output import Printer, render_limits, render_rows

EXIT_FAILED = 1
EXIT_CONFIG = 2


class ConfigError(Exception):
    pass


def credentials_from_env(env: dict[str, str]) -> AmdCredentials:
    if env.get("AMD_SECRET_NAME") and not env.get("AMD_PASSWORD"):
        return load_credentials(env["AMD_SECRET_NAME"])
    missing = [
        name
        for name in ("AMD_OFFICE_KEY", "AMD_USERNAME", "AMD_PASSWORD", "AMD_APP_NAME")
        if not env.get(name)
    ]
    if missing:
        raise ConfigError("missing environment variables: " + ", ".join(missing))
    return AmdCredentials(
        office_key=env["AMD_OFFICE_KEY"],
        username=env["AMD_USERNAME"],
        password=SecretStr(env["AMD_PASSWORD"]),
        app_name=env["AMD_APP_NAME"],
        partner_login_url=env.get("AMD_PARTNER_LOGIN_URL") or PARTNER_LOGIN_URL,
    )


def build_from_env(env: dict[str, str]) -> AdvancedMD:
    creds = credentials_from_env(env)
    zone = ZoneInfo(env.get("AMD_TIMEZONE") or DEFAULT_TIMEZONE)
    clock = SystemClock()
    token_cache, buckets, lookups = _adapters(env)
    return build_advancedmd(
        creds,
        token_cache=token_cache,
        rate_buckets=buckets,
        lookup_cache=lookups,
        clock=clock,
        # An operator can wait a little for budget; a Lambda worker would defer instead.
        options=ClientOptions(
            timezone=zone, max_rate_wait=float(env.get("AMD_MAX_RATE_WAIT", "120"))
        ),
        token_policy=TokenPolicy(midnight_zone=zone),
    )


def _adapters(env: dict[str, str]) -> tuple[Any, Any, Any]:
    # Imported here: the CLI is a composition root, and boto3 is only needed with tables.
    if env.get("CONTROL_TABLE"):
        import boto3  # noqa: PLC0415

        from amdsync.store.lookup_cache import DynamoLookupCache  # noqa: PLC0415
        from amdsync.store.rate_buckets import DynamoRateBuckets  # noqa: PLC0415
        from amdsync.store.token_cache import DynamoTokenCache  # noqa: PLC0415

        ddb = boto3.resource("dynamodb")
        control = ddb.Table(env["CONTROL_TABLE"])
        cache = ddb.Table(env.get("CACHE_TABLE") or env["CONTROL_TABLE"])
        return DynamoTokenCache(control), DynamoRateBuckets(control), DynamoLookupCache(cache)
    from amdsync.store.local_files import (  # noqa: PLC0415
        FileLookupCache,
        FileRateBuckets,
        FileTokenCache,
    )

    base = Path(
        env.get("AMDSYNC_STATE_DIR")
        or Path(env.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "amdsync"
    )
    return (
        FileTokenCache(base / "token.json"),
        FileRateBuckets(base / "rate-buckets.json"),
        FileLookupCache(base / "lookups.json"),
    )


# --- commands ---------------------------------------------------------------------------------
def cmd_test_connection(amd: AdvancedMD, args: argparse.Namespace, out: Printer) -> None:
    report = amd.test_connection()
    out.emit(
        {"ok": True, "providers": report.provider_count},
        f"Success: connected to AdvancedMD. The practice has {report.provider_count} providers.",
    )


def cmd_providers(amd: AdvancedMD, args: argparse.Namespace, out: Printer) -> None:
    rows = [p.model_dump(mode="json") for p in amd.lookups.profiles()]
    out.emit(rows, render_rows(rows, ["id", "code", "name", "status"]))


def cmd_facilities(amd: AdvancedMD, args: argparse.Namespace, out: Printer) -> None:
    rows = [f.model_dump(mode="json") for f in amd.lookups.facilities()]
    out.emit(rows, render_rows(rows, ["id", "code", "name"]))


def cmd_appointment_types(amd: AdvancedMD, args: argparse.Namespace, out: Printer) -> None:
    rows = [t.model_dump(mode="json") for t in amd.lookups.appointment_types()]
    out.emit(rows, render_rows(rows, ["id", "name", "default_duration", "deleted"]))


_VISIT_COLUMNS = ["id", "start", "duration", "status", "profile", "column", "patient_id"]


def _visit_row(visit: Any) -> dict[str, Any]:
    # Ids, times and codes only: no patient names or other PHI on an operator's screen/logs.
    return {name: visit.model_dump(mode="json").get(name) for name in _VISIT_COLUMNS}


def cmd_appointments(amd: AdvancedMD, args: argparse.Namespace, out: Printer) -> None:
    first, last = date.fromisoformat(args.date_from), date.fromisoformat(args.date_to)
    if last < first:
        raise ConfigError("--to is before --from")
    code = None
    if args.provider:
        profile = amd.lookups.find_profile(args.provider)
        if profile is None:
            raise ConfigError(f"no provider with id {args.provider}")
        code = (profile.code or "").upper()
    rows = [
        _visit_row(v)
        for day in amd.visits.in_range(first, last)
        for v in day.visits
        if code is None or (v.profile or "").upper() == code
    ]
    out.emit(rows, render_rows(rows, _VISIT_COLUMNS))


def cmd_visit(amd: AdvancedMD, args: argparse.Namespace, out: Printer) -> None:
    appt = amd.scheduler.get(args.id).model_dump(mode="json")
    out.emit(appt, render_rows([appt], ["id", "startdatetime", "duration", "status", "columnid"]))


def cmd_pull(amd: AdvancedMD, args: argparse.Namespace, out: Printer) -> None:
    changes = amd.visits.changes_since(args.since)
    mark = changes.servertime.raw if changes.servertime else None
    rows = [_visit_row(v) | {"update": v.update_status} for v in changes.visits]
    summary = f"{len(rows)} changed visits in {changes.calls} calls; next --since {mark}"
    table = render_rows(rows, ["update", *_VISIT_COLUMNS])
    out.emit({"servertime": mark, "calls": changes.calls, "visits": rows}, f"{table}\n{summary}")


def cmd_limits(amd: AdvancedMD, args: argparse.Namespace, out: Printer) -> None:
    states = amd.client.limiter.snapshot()
    rows = [
        {
            "budget": s.budget.value,
            "used": s.used,
            "limit": s.limit,
            "peak": s.peak,
            "resets_in": round(s.resets_in, 1),
        }
        for s in states
    ]
    out.emit(rows, render_limits(rows))


Command = Callable[[AdvancedMD, argparse.Namespace, Printer], None]
COMMANDS: dict[str, Command] = {
    "test-connection": cmd_test_connection,
    "providers": cmd_providers,
    "facilities": cmd_facilities,
    "appointment-types": cmd_appointment_types,
    "appointments": cmd_appointments,
    "visit": cmd_visit,
    "pull": cmd_pull,
    "limits": cmd_limits,
}


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="amdsync", description="AdvancedMD operator tool")
    top.add_argument("--json", action="store_true", help="machine-readable output")
    sub = top.add_subparsers(dest="command", required=True)
    for name in ("test-connection", "providers", "facilities", "appointment-types", "limits"):
        sub.add_parser(name)
    appts = sub.add_parser("appointments")
    appts.add_argument("--from", dest="date_from", required=True, help="YYYY-MM-DD")
    appts.add_argument("--to", dest="date_to", required=True, help="YYYY-MM-DD")
    appts.add_argument("--provider", help="AMD provider (profile) id")
    sub.add_parser("visit").add_argument("id")
    sub.add_parser("pull").add_argument("--since", required=True, help="a servertime, verbatim")
    return top


def main(argv: Sequence[str] | None = None, env: dict[str, str] | None = None) -> int:
    args = parser().parse_args(argv)
    out = Printer(as_json=args.json)
    logging.basicConfig(level=logging.WARNING)
    try:
        amd = build_from_env(dict(os.environ) if env is None else env)
        COMMANDS[args.command](amd, args, out)
    except (ConfigError, ValueError) as exc:
        out.fail(f"Configuration problem: {exc}")
        return EXIT_CONFIG
    except AuthenticationFailed:
        out.fail(
            "Failure: AdvancedMD refused the login. Check AMD_OFFICE_KEY, AMD_USERNAME, "
            "AMD_PASSWORD and AMD_APP_NAME."
        )
        return EXIT_FAILED
    except RateLimited as exc:
        out.fail(
            f"Failure: AdvancedMD's rate limit is reached; try again in {exc.retry_after:.0f}s."
        )
        return EXIT_FAILED
    except AmdError as exc:
        out.fail(f"Failure: {exc.meaning} ({exc.error_code}).")
        return EXIT_FAILED
    return 0


if __name__ == "__main__":
    sys.exit(main())
