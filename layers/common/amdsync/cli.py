"""`amdsync`: the operator's command line for AdvancedMD (`python -m amdsync.cli`).

Next to the service the CLI is one more caller of the service's AdvancedMD identity: it uses the
service's token cache, rate buckets and lookup cache (DynamoDB) and, should it have to log in,
the service's credentials, so it never logs in while a valid token exists and never spends
budget the service does not see (PROTOCOL §2.5, §6). It finds the service through

* `--stack NAME` (or AMDSYNC_STACK): a deployed CloudFormation stack (`amdsync.cli_stack`), or
* the environment the functions get (SYNC_TABLE, CONTROL_TABLE, CACHE_TABLE, … AMD_SECRET_NAME,
  AMD_PARTNER_LOGIN_URL); `make run` writes it for the local stack to `.local/cli.env`.

AWS access follows the usual AWS variables (AWS_PROFILE, AWS_REGION, AWS_ENDPOINT_URL).

With neither, the CLI runs alone and says so on stderr: credentials from AMD_OFFICE_KEY,
AMD_USERNAME, AMD_PASSWORD, AMD_APP_NAME (or AMD_SECRET_NAME), AMD_PARTNER_LOGIN_URL (default:
AMD's partner login), AMD_TIMEZONE; token, budget and lookups in private 0600 files under
AMDSYNC_STATE_DIR (default ~/.cache/amdsync), so repeated runs reuse one login. Every variable
is read through `amdsync.config.CliSettings`. Credentials are never printed.
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from botocore.exceptions import BotoCoreError, ClientError

from amdsync.amd.client import ClientOptions
from amdsync.amd.config import (
    PARTNER_LOGIN_URL,
    AmdCredentials,
    TokenPolicy,
    load_credentials,
)
from amdsync.amd.errors import AmdError, AuthenticationFailed, NotFound, RateLimited
from amdsync.amd.ports import Clock, SystemClock
from amdsync.amd.service import AdvancedMD, build_advancedmd
from amdsync.amd.tiers import Budget, budgets_for_action
from amdsync.cli_output import Printer, render_limits, render_rows, update_words
from amdsync.cli_parser import parser
from amdsync.cli_since import since_servertime
from amdsync.config import AmdSettings, CliSettings, ConfigError, load_settings
from amdsync.domain.status import amd_status_label

EXIT_FAILED = 1
EXIT_CONFIG = 2
EXIT_NOT_FOUND = 3


class NoSuchVisit(Exception):
    """The visit id the operator gave is not one AdvancedMD knows."""

    def __init__(self, visit_id: str) -> None:
        super().__init__(f"No such visit: AdvancedMD has no visit with id {visit_id}.")


ALONE_NOTICE = (
    "amdsync: no stack configured; using a private token and budget in {state_dir}"
    " (do not run next to the service)"
)


def build(env: Mapping[str, str], *, stack: str | None, clock: Clock, stderr: TextIO) -> AdvancedMD:
    """The AdvancedMD facade the commands use: the service's identity when a stack is named
    or configured, otherwise a private one (with the notice on `stderr`)."""
    cli = load_settings(CliSettings, env)
    stack = stack or cli.stack
    if stack or cli.joins_stack:
        return _joined(env, cli, stack, clock, stderr)
    return _alone(cli, clock, stderr)


def _joined(
    env: Mapping[str, str], cli: CliSettings, stack: str | None, clock: Clock, stderr: TextIO
) -> AdvancedMD:
    # Imported here: the CLI is a composition root, and boto3 is only needed with a stack.
    from amdsync.compose import Services  # noqa: PLC0415
    from amdsync.sync.metrics import NullMetrics  # noqa: PLC0415

    if stack:
        import boto3  # noqa: PLC0415

        from amdsync.cli_stack import stack_environment  # noqa: PLC0415

        variables = stack_environment(stack, boto3.client("cloudformation"))
    else:
        variables = dict(env)
    try:
        settings = load_settings(AmdSettings, variables)
    except ConfigError as exc:
        where = f"stack {stack!r}" if stack else "the service's variables"
        raise ConfigError(f"{where}: {exc}") from None
    ignored = cli.own_credentials_given()
    if ignored:
        stderr.write(
            f"amdsync: using the service's AdvancedMD credentials; {', '.join(ignored)} ignored\n"
        )
    # The service's own composition: same token owner, tables, limits and practice zone.
    services = Services(settings, NullMetrics(), max_rate_wait=cli.max_rate_wait, clock=clock)
    return services.amd


def _alone(cli: CliSettings, clock: Clock, stderr: TextIO) -> AdvancedMD:
    from amdsync.store.local_files import (  # noqa: PLC0415
        FileLookupCache,
        FileRateBuckets,
        FileTokenCache,
    )

    creds = credentials(cli)
    zone = ZoneInfo(cli.amd_timezone or cli.practice_timezone)
    base = Path(cli.state_dir or Path(cli.xdg_cache_home or Path.home() / ".cache") / "amdsync")
    stderr.write(ALONE_NOTICE.format(state_dir=base) + "\n")
    return build_advancedmd(
        creds,
        scope=cli.practice_id,
        token_cache=FileTokenCache(base / "token.json"),
        rate_buckets=FileRateBuckets(base / "rate-buckets.json"),
        lookup_cache=FileLookupCache(base / "lookups.json"),
        clock=clock,
        # An operator can wait a little for budget; a Lambda worker would defer instead.
        options=ClientOptions(timezone=zone, max_rate_wait=cli.max_rate_wait),
        token_policy=TokenPolicy(midnight_zone=zone),
    )


def credentials(cli: CliSettings) -> AmdCredentials:
    """The CLI's own credentials (alone): from AMD_* variables, or the secret they name."""
    if cli.amd_secret_name and not cli.amd_password:
        found = load_credentials(cli.amd_secret_name)
        if cli.amd_partner_login_url:  # the endpoint is configuration, as for the functions
            found = found.model_copy(update={"partner_login_url": cli.amd_partner_login_url})
        return found
    given = cli.own_credentials_given()
    missing = [name for name in CliSettings.OWN_CREDENTIALS if name not in given]
    if missing or cli.amd_password is None:
        raise ConfigError("missing environment variables: " + ", ".join(missing))
    return AmdCredentials(
        office_key=str(cli.amd_office_key),
        username=str(cli.amd_username),
        password=cli.amd_password,
        app_name=str(cli.amd_app_name),
        partner_login_url=cli.amd_partner_login_url or PARTNER_LOGIN_URL,
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
# What a person reads: the status in AMD's words instead of its number.
_VISIT_SHOWN = ["id", "start", "duration", "status_label", "profile", "column", "patient_id"]


def _visit_row(visit: Any) -> dict[str, Any]:
    # Ids, times and codes only: no patient names or other PHI on an operator's screen/logs.
    row = {name: visit.model_dump(mode="json").get(name) for name in _VISIT_COLUMNS}
    return row | {"status_label": amd_status_label(row["status"])}


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
    out.emit(rows, render_rows(rows, _VISIT_SHOWN, {"status_label": "status"}))


def cmd_visit(amd: AdvancedMD, args: argparse.Namespace, out: Printer) -> None:
    if not args.id.isdigit():  # AMD's visit ids are numbers: nothing to ask AMD about
        raise NoSuchVisit(args.id)
    try:
        appt = amd.scheduler.get(args.id).model_dump(mode="json")
    except NotFound:
        raise NoSuchVisit(args.id) from None
    appt["status_label"] = amd_status_label(appt.get("status"))
    columns = ["id", "startdatetime", "duration", "status_label", "columnid"]
    out.emit(appt, render_rows([appt], columns, {"status_label": "status"}))


def _feed_too_soon(seconds: float) -> str:
    return (
        "Not sent: AdvancedMD's change feed may be read once a minute and was read moments "
        f"ago; next allowed in {max(1, math.ceil(seconds))} s."
    )


def cmd_pull(amd: AdvancedMD, args: argparse.Namespace, out: Printer) -> None:
    # Once per 60 s + margin per office key, whoever calls (SPEC 9.3): say when, do not send.
    wait = amd.client.limiter.next_allowed_in(budgets_for_action("getupdatedvisits"))
    if wait > 0:
        raise RateLimited(wait, budget=Budget.FEED.value)
    since = since_servertime(args.since, args.practice_zone, amd.client.timezone)
    changes = amd.visits.changes_since(since)
    mark = changes.servertime.raw if changes.servertime else None
    rows = [
        _visit_row(v) | {"update": v.update_status, "change": update_words(v.update_status)}
        for v in changes.visits
    ]
    summary = (
        f"{len(rows)} changed visits since {since} (AMD's clock) in {changes.calls} calls; "
        f"next --since {mark}"
    )
    table = render_rows(rows, ["change", *_VISIT_SHOWN], {"status_label": "status"})
    data = {"since": since, "servertime": mark, "calls": changes.calls, "visits": rows}
    out.emit(data, f"{table}\n{summary}")


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


def main(
    argv: Sequence[str] | None = None,
    env: Mapping[str, str] | None = None,
    *,
    clock: Clock | None = None,
) -> int:
    """Run one command. `env` defaults to os.environ; `clock` (the system clock by default)
    is for tests that share a simulated clock with the AMD simulator."""
    args = parser().parse_args(argv)
    out = Printer(as_json=args.json)
    logging.basicConfig(level=logging.WARNING)
    environment = os.environ if env is None else env
    try:
        # `--since` dates are the practice's wall time (SPEC: local times everywhere).
        args.practice_zone = ZoneInfo(load_settings(CliSettings, environment).practice_timezone)
        amd = build(
            environment,
            stack=args.stack,
            clock=clock or SystemClock(),
            stderr=sys.stderr,
        )
        COMMANDS[args.command](amd, args, out)
    except _EXPLAINED as exc:
        code, message = explain(exc)
        out.fail(message)
        return code
    return 0


_EXPLAINED = (
    ConfigError,
    ValueError,
    NoSuchVisit,
    AmdError,
    BotoCoreError,
    ClientError,
)


def explain(exc: Exception) -> tuple[int, str]:
    """The exit code and the plain-words message for a failed command."""
    if isinstance(exc, ConfigError | ValueError):
        return EXIT_CONFIG, f"Configuration problem: {exc}"
    if isinstance(exc, NoSuchVisit):
        return EXIT_NOT_FOUND, str(exc)
    return EXIT_FAILED, _failure(exc)


def _failure(exc: Exception) -> str:
    if isinstance(exc, AuthenticationFailed):
        return (
            "Failure: AdvancedMD refused the login. Check the credentials: the stack's secret, "
            "or (run alone) AMD_OFFICE_KEY, AMD_USERNAME, AMD_PASSWORD and AMD_APP_NAME."
        )
    if isinstance(exc, BotoCoreError | ClientError):
        # The stack's tables or secret out of reach: expired AWS credentials, wrong region, ...
        return f"Failure: AWS refused or could not be reached: {exc}"
    if isinstance(exc, RateLimited):
        if exc.budget == Budget.FEED.value:  # the feed's own rule (cmd_pull): nothing was sent
            return _feed_too_soon(exc.retry_after)
        return f"Failure: AdvancedMD's rate limit is reached; try again in {exc.retry_after:.0f}s."
    assert isinstance(exc, AmdError)
    return f"Failure: {exc.meaning} ({exc.error_code})."


if __name__ == "__main__":
    sys.exit(main())
