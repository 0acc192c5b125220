"""The operator CLI's arguments, help text and `--since` conversion (no AMD needed)."""

from zoneinfo import ZoneInfo

import pytest

from amdsync.cli_output import render_rows, update_words
from amdsync.cli_parser import COMMAND_HELP, parser
from amdsync.cli_since import since_servertime
from amdsync.config import CliSettings
from amdsync.domain.servertime import ServerTime
from amdsync.domain.status import amd_status_label

DENVER = ZoneInfo("America/Denver")
NEW_YORK = ZoneInfo("America/New_York")


@pytest.mark.parametrize(
    "argv",
    [
        ["--json", "providers"],
        ["providers", "--json"],
        ["--json", "pull", "--since", "2025-03-12"],
        ["pull", "--since", "2025-03-12", "--json"],
    ],
)
def test_json_is_accepted_before_or_after_the_command(argv):
    assert parser().parse_args(argv).json is True


def test_json_is_off_unless_asked():
    assert parser().parse_args(["providers"]).json is False


def test_stack_is_accepted_after_the_command_too():
    assert parser().parse_args(["limits", "--stack", "prod"]).stack == "prod"
    assert parser().parse_args(["--stack", "prod", "limits"]).stack == "prod"


def test_help_lists_every_command_with_its_sentence(capsys):
    with pytest.raises(SystemExit):
        parser().parse_args(["--help"])
    text = " ".join(capsys.readouterr().out.split())
    for name, sentence in COMMAND_HELP.items():
        assert name in text
        assert " ".join(sentence.split()) in text


def test_help_names_every_variable_the_cli_reads(capsys):
    with pytest.raises(SystemExit):
        parser().parse_args(["--help"])
    text = capsys.readouterr().out
    # STAGE and PRACTICE_ID come with every function's settings; no command uses them.
    read = {field.alias for field in CliSettings.model_fields.values()} - {"STAGE", "PRACTICE_ID"}
    missing = sorted(name for name in read if name and name not in text)
    assert missing == []
    for variable in ("AWS_PROFILE", "AWS_REGION", "SYNC_TABLE", "AMD_SECRET_NAME"):
        assert variable in text


def test_a_command_help_points_at_the_environment(capsys):
    with pytest.raises(SystemExit):
        parser().parse_args(["pull", "--help"])
    text = capsys.readouterr().out
    assert "servertime" in text and "environment" in text


def test_since_a_date_is_midnight_in_the_practice_zone():
    assert since_servertime("2025-03-12", DENVER, DENVER) == "2025-03-12T00:00:00.000"


def test_since_a_practice_time_is_converted_to_amds_clock():
    # 08:30 in Denver (MDT, UTC-6 on 12 March 2025) is 10:30 in New York (EDT).
    assert since_servertime("2025-03-12T08:30", DENVER, NEW_YORK) == "2025-03-12T10:30:00.000"
    assert since_servertime("2025-03-12 08:30:15", DENVER, DENVER) == "2025-03-12T08:30:15.000"


def test_since_with_an_offset_is_that_instant():
    assert since_servertime("2025-01-10T15:00Z", DENVER, DENVER) == "2025-01-10T08:00:00.000"


@pytest.mark.parametrize(
    "raw", ["2025-03-12T04:00:00.000", "2015-03-24T8:25:28.730", "3/24/2015 8:25:28 AM"]
)
def test_a_raw_servertime_is_sent_verbatim(raw):
    assert since_servertime(raw, DENVER, NEW_YORK) == raw


def test_the_converted_form_reads_back_as_a_servertime():
    converted = since_servertime("2025-11-02T01:30", DENVER, DENVER)
    assert ServerTime(converted).value.isoformat() == "2025-11-02T01:30:00"


@pytest.mark.parametrize("bad", ["yesterday", "2025-13-01", "12/03", ""])
def test_an_unreadable_since_is_a_plain_error(bad):
    with pytest.raises(ValueError, match="--since"):
        since_servertime(bad, DENVER, DENVER)


def test_statuses_read_as_amds_words():
    assert amd_status_label(0) == "Made"
    assert amd_status_label("10") == "Cancelled"
    assert amd_status_label(12) == "No show"
    assert amd_status_label(7) == "unknown status 7"
    assert amd_status_label(None) == ""


def test_change_flags_read_as_words():
    assert [update_words(f) for f in ("N", "c", "D", None)] == [
        "new",
        "changed",
        "deleted or charged",
        "",
    ]


def test_a_renamed_heading_shows_the_word_column():
    row = {"status_label": "Seen", "status": 3}
    table = render_rows([row], ["status_label"], {"status_label": "status"})
    assert table.splitlines()[:2] == ["status", "Seen"]
