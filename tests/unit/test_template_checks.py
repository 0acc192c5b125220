"""`make validate` for both identity set-ups (issue 17): sam validate --lint, cfn-lint and
checkov pass on the template with the stack's own Cognito pool (the defaults) and with an
external OIDC issuer (the same template with other parameter defaults, since sam validate and
checkov read defaults only and both honour the template's conditions)."""

from __future__ import annotations

import difflib
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.lambda_support import REPO

REGION = "us-west-2"
EXTERNAL_ISSUER = {
    "OidcIssuer": "https://login.example.com/tenant",
    "OidcAudience": '"admin-ui-client,ehr-client"',
}


def _tool(venv: str, name: str) -> str:
    """A tool of a sibling venv (`make setup` creates them next to the dev venv)."""
    for root in (Path(sys.prefix).parent, REPO):
        path = root / venv / "bin" / name
        if path.exists():
            return str(path)
    raise AssertionError(f"{venv}/bin/{name} is missing: run `make setup`")


def with_defaults(text: str, defaults: dict[str, str]) -> str:
    """template.yaml's text with some parameters' `Default:` replaced."""
    for name, value in defaults.items():
        block = re.compile(rf"(\n  {name}:\n(?:    .*\n)*?    Default: ).*\n")
        text, count = block.subn(lambda m, v=value: m.group(1) + v + "\n", text, count=1)
        assert count == 1, f"parameter {name} has no Default line"
    return text


@pytest.fixture(scope="module", params=["cognito", "external-issuer"])
def template_path(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    source = REPO / "template.yaml"
    if request.param == "cognito":
        return source
    path = tmp_path_factory.mktemp("external") / "template.yaml"
    path.write_text(with_defaults(source.read_text(), EXTERNAL_ISSUER))
    return path


def assert_passes(command: list[str], cwd: Path) -> str:
    environment = {**os.environ, "SAM_CLI_TELEMETRY": "0", "AWS_DEFAULT_REGION": REGION}
    done = subprocess.run(
        command, check=False, cwd=cwd, env=environment, capture_output=True, text=True, timeout=110
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, f"{command[0]} failed:\n{output}"
    return output


def test_sam_validate_lint(template_path: Path) -> None:
    sam = _tool(".venv-sam", "sam")
    command = [sam, "validate", "--lint", "--region", REGION, "-t", str(template_path)]
    assert "is a valid SAM Template" in assert_passes(command, template_path.parent)


def test_cfn_lint(template_path: Path) -> None:
    cfn_lint = str(Path(sys.executable).parent / "cfn-lint")
    assert_passes([cfn_lint, str(template_path)], template_path.parent)


def test_checkov(template_path: Path) -> None:
    checkov = _tool(".venv-checkov", "checkov")
    command = [checkov, "-f", str(template_path), "--framework", "cloudformation"]
    output = assert_passes([*command, "--compact", "--quiet", "--skip-download"], REPO)
    assert "Failed checks: 0" in output, output


def test_the_external_issuer_copy_differs_only_in_the_defaults() -> None:
    text = (REPO / "template.yaml").read_text()
    changed = with_defaults(text, EXTERNAL_ISSUER)
    diff = list(difflib.unified_diff(text.splitlines(), changed.splitlines(), n=0, lineterm=""))
    removed = [line[1:] for line in diff[2:] if line.startswith("-")]
    added = [line[1:] for line in diff[2:] if line.startswith("+")]
    assert removed == ['    Default: ""', '    Default: ""']
    assert added == [f"    Default: {value}" for value in EXTERNAL_ISSUER.values()]
