"""docs/deploy.md is the deploy guide (issue 17 item 4): it must explain every parameter
`sam deploy --guided` asks for and every output it refers to, and `make smoke` must exist as
documented."""

from __future__ import annotations

import re
from typing import Any

import pytest
from cfnlint.decode import decode

from tests.lambda_support import REPO

GUIDE = REPO / "docs" / "deploy.md"


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    parsed, problems = decode(str(REPO / "template.yaml"))
    assert not problems, problems
    return parsed


def table_names(text: str) -> set[str]:
    """The `Name`s in the first column of the guide's tables."""
    return set(re.findall(r"^\| `([A-Za-z0-9]+)`", text, flags=re.MULTILINE))


def test_every_template_parameter_is_explained_in_the_guide(template: dict[str, Any]) -> None:
    explained = table_names(GUIDE.read_text())
    missing = sorted(set(template["Parameters"]) - explained)
    assert not missing, f"docs/deploy.md does not explain the parameters {missing}"


def test_the_guide_explains_no_parameter_the_template_lacks(template: dict[str, Any]) -> None:
    text = GUIDE.read_text()
    parameters_table = text[text.index("| parameter | answer |") : text.index("Then SAM asks")]
    stale = sorted(table_names(parameters_table) - set(template["Parameters"]))
    assert not stale, f"docs/deploy.md explains parameters the template lacks: {stale}"


def test_every_output_is_listed(template: dict[str, Any]) -> None:
    text = GUIDE.read_text()
    missing = sorted(name for name in template["Outputs"] if f"`{name}`" not in text)
    assert not missing, f"docs/deploy.md does not list the outputs {missing}"


def test_make_smoke_is_a_target_and_documented() -> None:
    makefile = (REPO / "Makefile").read_text()
    assert re.search(r"^smoke: .*## ", makefile, flags=re.MULTILINE)
    assert "-m local.smoke" in makefile
    for doc in (GUIDE, REPO / "README.md"):
        assert "make smoke API=" in doc.read_text(), doc.name
