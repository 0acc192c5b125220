"""`make run` needs only the dev venv (issue 17 item 5): the SAM CLI and checkov venvs are for
`make build`, `make validate` and `make test`, and nothing the runner imports needs them."""

from __future__ import annotations

import re
import subprocess

from tests.lambda_support import REPO


def make_dry_run(target: str) -> str:
    """What `make -n TARGET` would run, in a tree where no venv exists yet."""
    done = subprocess.run(
        ["make", "-n", "-B", target, "PYTHON=python3.11", "VENV=/nonexistent/.venv"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


def test_make_run_builds_only_the_dev_venv_and_starts_the_runner_with_its_issuer() -> None:
    commands = make_dry_run("run")
    assert ".venv-sam" not in commands and "requirements-sam" not in commands
    assert ".venv-checkov" not in commands
    assert "-m local.runner" in commands and "--issuer-port 9400" in commands


def test_make_build_still_sets_up_the_sam_cli() -> None:
    assert ".venv-sam/bin/sam build" in make_dry_run("build")


def test_the_local_runner_never_imports_sam_tooling() -> None:
    # cfn-lint (which decodes the template's YAML tags) is in the dev venv; the SAM CLI is not.
    sources = (REPO / "local" / "runner").glob("*.py")
    sam_import = re.compile(r"^\s*(from|import)\s+(samtranslator|samcli)\b", re.MULTILINE)
    assert not [path.name for path in sources if sam_import.search(path.read_text())]
