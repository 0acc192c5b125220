"""The `amdsync` CLI's arguments and `--help` text: one sentence per command and the environment
every command reads (kept apart from the commands so both stay short).

`--json` and `--stack` are accepted before or after the command (`amdsync --json providers` and
`amdsync providers --json` are the same): each subcommand gets them too, with no default of its
own, so a value given before the command is not reset by the subcommand.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping

from amdsync.cli_since import SINCE_HELP

# Command -> the sentence `--help` shows for it.
COMMAND_HELP: Mapping[str, str] = {
    "test-connection": "Log in to AdvancedMD (or reuse the login) and count the practice's "
    "providers.",
    "providers": "List AdvancedMD's providers (profiles): id, code, name, status.",
    "facilities": "List AdvancedMD's facilities: id, code, name.",
    "appointment-types": "List AdvancedMD's appointment types and their default durations.",
    "appointments": "List the visits on AdvancedMD's schedule between two dates (ids, times and "
    "statuses; no patient names).",
    "visit": "Show one visit by its AdvancedMD id; says 'no such visit' if AdvancedMD has none.",
    "pull": "Read AdvancedMD's change feed since a date, time or servertime (once a minute at "
    "most, shared with the service).",
    "limits": "Show this minute's AdvancedMD rate budgets: used, limit, reset.",
}

# What every command reads (through amdsync.config.CliSettings / AmdSettings and boto3).
ENVIRONMENT = """\
environment (every command):
  joining the service (shares its AdvancedMD login and rate budget):
    AMDSYNC_STACK            a deployed stack's name (same as --stack); or the functions' own
    SYNC_TABLE, LOGS_TABLE, AUDIT_TABLE, CACHE_TABLE, CONTROL_TABLE, SYNC_QUEUE_URL,
    AMD_SECRET_NAME, AMD_PARTNER_LOGIN_URL
                             variables (make run writes them to .local/cli.env)
    AWS_PROFILE, AWS_REGION, AWS_ENDPOINT_URL
                             which AWS account, region or endpoint holds the stack
  running alone (a private login and budget; do not run next to the service):
    AMD_OFFICE_KEY, AMD_USERNAME, AMD_PASSWORD, AMD_APP_NAME
                             the AdvancedMD credentials (or AMD_SECRET_NAME: a secret holding them)
    AMD_PARTNER_LOGIN_URL    AMD's partner login (default: AdvancedMD's own)
    AMD_TIMEZONE             AMD's clock zone (default: PRACTICE_TIMEZONE)
    AMDSYNC_STATE_DIR        token, budget and lookups (default: $XDG_CACHE_HOME/amdsync,
                             else ~/.cache/amdsync)
  both:
    PRACTICE_TIMEZONE        the zone of dates given to --since (default: America/Denver)
    AMD_MAX_RATE_WAIT        seconds a command may wait for rate budget (default: 120)
credentials are never printed."""


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="amdsync",
        description="AdvancedMD operator tool.",
        epilog=ENVIRONMENT,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_shared_options(top, defaults=True)
    sub = top.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands = {
        name: sub.add_parser(
            name,
            help=sentence,
            description=sentence,
            epilog="Reads the environment listed by `amdsync --help`.",
        )
        for name, sentence in COMMAND_HELP.items()
    }
    for command in commands.values():
        _add_shared_options(command, defaults=False)
    appts = commands["appointments"]
    appts.add_argument("--from", dest="date_from", required=True, help="YYYY-MM-DD")
    appts.add_argument("--to", dest="date_to", required=True, help="YYYY-MM-DD")
    appts.add_argument("--provider", help="AMD provider (profile) id")
    commands["visit"].add_argument("id", help="the AdvancedMD visit (appointment) id")
    commands["pull"].add_argument("--since", required=True, help=SINCE_HELP)
    return top


def _add_shared_options(target: argparse.ArgumentParser, *, defaults: bool) -> None:
    # Only the top level sets defaults: a subparser's default would overwrite a value given
    # before the command (argparse copies subparser defaults over the namespace).
    target.add_argument(
        "--json",
        action="store_true",
        default=False if defaults else argparse.SUPPRESS,
        help="machine-readable output",
    )
    target.add_argument(
        "--stack",
        metavar="NAME",
        default=None if defaults else argparse.SUPPRESS,
        help="share this deployed CloudFormation stack's AdvancedMD token and rate budget "
        "(default: $AMDSYNC_STACK, else the functions' variables CONTROL_TABLE, … if set)",
    )
