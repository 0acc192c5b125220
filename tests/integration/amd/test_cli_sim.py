"""The operator CLI against the simulator, run as real separate processes."""

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from amdsync.cli import main
from amdsync.domain.status import amd_status_label

pytest_plugins = ["local.amdsim.pytest_plugin"]

ROOT = Path(__file__).resolve().parents[3]


def cli_env(sim, state_dir, **overrides):
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AMD_", "AMDSYNC_")) and not k.endswith("_TABLE")
    }
    env.update(
        {
            "PYTHONPATH": os.pathsep.join([str(ROOT / "layers" / "common"), str(ROOT)]),
            "AMD_PARTNER_LOGIN_URL": sim.partner_login_url,
            "AMD_OFFICE_KEY": sim.office_key,
            "AMD_USERNAME": sim.username,
            "AMD_PASSWORD": sim.password,
            "AMD_APP_NAME": sim.appname,
            "AMD_TIMEZONE": "America/Denver",
            "AMDSYNC_STATE_DIR": str(state_dir),
        }
    )
    env.update(overrides)
    return env


def run_cli(env, *args):
    return subprocess.run(
        [sys.executable, "-m", "amdsync.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def assert_no_secrets(sim, *texts):
    for text in texts:
        assert sim.password not in text.split() and "psw" not in text
        assert sim.office_key not in text
        with sim.sim.state.lock:
            tokens = list(sim.sim.state.tokens)
        assert not any(t in text for t in tokens)


@pytest.fixture
def real_time_sim(amd_sim):
    amd_sim.admin.follow_real_time()  # the CLI runs on the system clock, like an operator
    return amd_sim


def test_three_cli_runs_share_one_login(real_time_sim, tmp_path):
    sim = real_time_sim
    env = cli_env(sim, tmp_path / "state")
    first = run_cli(env, "test-connection")
    providers = run_cli(env, "providers")
    appts = run_cli(env, "--json", "appointments", "--from", "2025-03-12", "--to", "2025-03-13")
    for result in (first, providers, appts):
        assert result.returncode == 0, result.stderr
    assert sim.admin.report()["logins"] == 1
    assert isinstance(json.loads(appts.stdout), list)
    token_file = tmp_path / "state" / "token.json"
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    assert_no_secrets(sim, first.stdout, first.stderr, providers.stdout, appts.stdout)


def test_cli_alone_says_it_keeps_a_private_token_and_budget(real_time_sim, tmp_path):
    result = run_cli(cli_env(real_time_sim, tmp_path / "state"), "--json", "test-connection")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["ok"] is True  # the notice never reaches stdout
    notices = [line for line in result.stderr.splitlines() if line.startswith("amdsync:")]
    assert notices == [
        f"amdsync: no stack configured; using a private token and budget in {tmp_path / 'state'}"
        " (do not run next to the service)"
    ]


def test_connection_prints_success_and_provider_count(real_time_sim, tmp_path):
    result = run_cli(cli_env(real_time_sim, tmp_path), "test-connection")
    assert result.returncode == 0
    count = len(real_time_sim.sim.state.profiles)
    assert result.stdout.startswith("Success")
    assert f"{count} providers" in result.stdout


def test_wrong_password_is_a_plain_failure(real_time_sim, tmp_path):
    env = cli_env(real_time_sim, tmp_path, AMD_PASSWORD="not-the-password")
    result = run_cli(env, "test-connection")
    assert result.returncode != 0
    assert "Failure: AdvancedMD refused the login" in result.stderr
    assert "Traceback" not in result.stderr
    assert "not-the-password" not in result.stdout + result.stderr


def test_other_commands_in_process(real_time_sim, tmp_path, capsys):
    env = cli_env(real_time_sim, tmp_path)
    assert main(["facilities"], env) == 0
    assert "rows" in capsys.readouterr().out
    assert main(["appointment-types"], env) == 0
    assert "rows" in capsys.readouterr().out
    assert main(["--json", "limits"], env) == 0
    limits = {row["budget"]: row for row in json.loads(capsys.readouterr().out)}
    # Calls this minute of our clock: paced calls may straddle a minute, so only the range.
    assert 0 <= limits["T3"]["used"] <= limits["T3"]["limit"]
    visit_id = str(real_time_sim.admin.appointments()[0]["id"])
    assert main(["--json", "visit", visit_id], env) == 0
    assert str(json.loads(capsys.readouterr().out)["id"]) == visit_id
    assert main(["--json", "pull", "--since", "2025-03-12T04:00:00.000"], env) == 0
    pulled = json.loads(capsys.readouterr().out)
    assert pulled["calls"] >= 1 and pulled["servertime"]


def test_pull_twice_in_a_minute_says_when_instead_of_sending(real_time_sim, tmp_path, capsys):
    """AMD's change feed: once per 60 s + margin per office key, whoever calls (SPEC 9.3)."""
    env = cli_env(real_time_sim, tmp_path)
    since = "2025-03-12T04:00:00.000"
    assert main(["--json", "pull", "--since", since], env) == 0
    capsys.readouterr()
    assert main(["pull", "--since", since], env) == 1
    err = capsys.readouterr().err
    assert "Not sent" in err and "next allowed in" in err
    seconds = int(err.split("next allowed in ")[1].split(" s")[0])
    assert 55 <= seconds <= 62
    assert real_time_sim.admin.report()["calls"]["by_action"]["getupdatedvisits"] == 1


def test_missing_configuration_exits_2(tmp_path, capsys):
    assert main(["providers"], {"AMDSYNC_STATE_DIR": str(tmp_path)}) == 2
    assert "AMD_PASSWORD" in capsys.readouterr().err


def test_an_unknown_visit_id_says_no_such_visit(real_time_sim, tmp_path, capsys):
    env = cli_env(real_time_sim, tmp_path)
    known = {str(a["id"]) for a in real_time_sim.admin.appointments()}
    unknown = str(max(int(i) for i in known) + 100000)
    assert main(["visit", unknown], env) == 3
    captured = capsys.readouterr()
    expected = f"No such visit: AdvancedMD has no visit with id {unknown}."
    assert captured.err.splitlines()[-1] == expected
    assert main(["visit", "not-a-number", "--json"], env) == 3
    assert json.loads(capsys.readouterr().out)["ok"] is False


def test_json_after_the_command_and_statuses_in_words(real_time_sim, tmp_path, capsys):
    env = cli_env(real_time_sim, tmp_path)
    visit = real_time_sim.admin.appointments()[0]
    assert main(["visit", str(visit["id"]), "--json"], env) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["status_label"] == amd_status_label(shown["status"])
    assert main(["visit", str(visit["id"])], env) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split()[3] == "status"
    assert table[1].split()[3] == amd_status_label(shown["status"]).split()[0]


def test_pull_since_a_practice_date_sends_it_as_a_servertime(real_time_sim, tmp_path, capsys):
    env = cli_env(real_time_sim, tmp_path)
    assert main(["pull", "--since", "2025-03-12", "--json"], env) == 0
    pulled = json.loads(capsys.readouterr().out)
    assert pulled["since"] == "2025-03-12T00:00:00.000"
    assert pulled["calls"] >= 1 and pulled["servertime"]
    for row in pulled["visits"]:
        assert row["change"] in {"new", "changed", "deleted or charged"}
