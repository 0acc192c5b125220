"""The runbook names only fields that exist: every camelCase name it quotes is a setting
(domain/settings.py) or a field of the API (docs/openapi.json), so an operator following it at
3 a.m. never looks for a setting or a stats field that is not there."""

from __future__ import annotations

import json
import re

from amdsync.domain.settings import Settings
from tests.lambda_support import REPO

QUOTED = re.compile(r"`([a-z][a-z0-9]*[A-Z][A-Za-z0-9]*)`|\"([a-z][a-z0-9]*[A-Z][A-Za-z0-9]*)\":")


def _api_fields() -> set[str]:
    document = json.loads((REPO / "docs" / "openapi.json").read_text())
    names: set[str] = set()

    def walk(node: object) -> None:
        if isinstance(node, dict):
            names.update(
                node.get("properties", {}) if isinstance(node.get("properties"), dict) else {}
            )
            names.update(
                p["name"] for p in node.get("parameters", []) if isinstance(p, dict) and "name" in p
            )
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(document)
    return names


def test_every_name_the_runbook_quotes_exists() -> None:
    text = (REPO / "docs" / "runbook.md").read_text()
    quoted = {a or b for a, b in QUOTED.findall(text)}
    settings = {field.alias or name for name, field in Settings.model_fields.items()}
    unknown = quoted - settings - _api_fields()
    assert quoted, "the runbook quotes no field names: the pattern is broken"
    assert not unknown, sorted(unknown)


def test_the_settings_the_runbook_tells_operators_to_change_exist() -> None:
    text = (REPO / "docs" / "runbook.md").read_text()
    settings = {field.alias or name for name, field in Settings.model_fields.items()}
    assert "massChangeGuardRatio" in settings and "massChangeGuardRatio" in text
