"""template.yaml as data, and the few CloudFormation intrinsics it uses, resolved locally.

The runner builds everything from the template so the local shape cannot drift from the deployed
one. Only what the template needs is supported: `Ref` (parameters, pseudo parameters and
resources created so far), `Fn::Sub`, `Fn::GetAtt`, `Fn::Join`, `Fn::If`, `Fn::Select`, and the
condition functions `Fn::Not`/`Fn::Equals`/`Fn::And`/`Fn::Or`/`Condition`. Anything else
raises, naming it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cfnlint.decode import decode  # type: ignore[import-untyped]

REPO_ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_PATH = REPO_ROOT / "template.yaml"

LOCAL_REGION = "us-west-2"
LOCAL_ACCOUNT_ID = "123456789012"  # moto's default account

_SUB_VARIABLE = re.compile(r"\$\{([^}]+)\}")


class TemplateError(RuntimeError):
    """template.yaml uses something the local runner cannot resolve."""


class UnresolvedReference(TemplateError):
    """A reference to a resource that has not been created yet (callers may retry later)."""


def to_plain(node: Any) -> Any:
    """cfn-lint's decoded nodes (dict/str subclasses with line marks) as plain Python values."""
    if isinstance(node, Mapping):
        return {str(key): to_plain(value) for key, value in node.items()}
    if isinstance(node, list):
        return [to_plain(item) for item in node]
    for kind in (bool, int, float, str):  # bool first: it is an int too
        if isinstance(node, kind):
            return kind(node)
    return node


@dataclass(frozen=True)
class Template:
    """The parsed template: parameters, conditions, globals and resources as plain data."""

    parameters: dict[str, dict[str, Any]]
    conditions: dict[str, Any]
    globals: dict[str, Any]
    resources: dict[str, dict[str, Any]]
    path: Path = TEMPLATE_PATH

    @classmethod
    def load(cls, path: Path = TEMPLATE_PATH) -> Template:
        parsed, problems = decode(str(path))
        if problems or parsed is None:
            raise TemplateError(f"{path} does not parse: {problems}")
        data = to_plain(parsed)
        return cls(
            parameters=data.get("Parameters", {}),
            conditions=data.get("Conditions", {}),
            globals=data.get("Globals", {}),
            resources=data.get("Resources", {}),
            path=path,
        )

    def parameter_values(self, overrides: Mapping[str, str] | None = None) -> dict[str, str]:
        """Each parameter's value: the override, else its default. A parameter with neither
        is an error, as `sam deploy` would make it."""
        overrides = dict(overrides or {})
        unknown = set(overrides) - set(self.parameters)
        if unknown:
            raise TemplateError(f"unknown parameter overrides: {sorted(unknown)}")
        values: dict[str, str] = {}
        for name, spec in self.parameters.items():
            if name in overrides:
                values[name] = str(overrides[name])
            elif "Default" in spec:
                values[name] = str(spec["Default"])
            else:
                raise TemplateError(f"parameter {name} has no default: pass an override")
        return values

    def resources_of_type(self, kind: str) -> dict[str, dict[str, Any]]:
        return {name: res for name, res in self.resources.items() if res.get("Type") == kind}


@dataclass
class Resolver:
    """Resolves intrinsics against parameter values and the resources created so far.

    `refs` maps a logical id to what `Ref` returns (table name, queue URL, topic ARN, ...);
    `attributes` maps (logical id, attribute) to what `Fn::GetAtt` returns.
    """

    parameters: dict[str, str]
    conditions: dict[str, Any] = field(default_factory=dict)
    refs: dict[str, str] = field(default_factory=dict)
    attributes: dict[tuple[str, str], str] = field(default_factory=dict)
    region: str = LOCAL_REGION
    account_id: str = LOCAL_ACCOUNT_ID

    def pseudo_parameters(self) -> dict[str, str]:
        return {
            "AWS::Region": self.region,
            "AWS::AccountId": self.account_id,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::StackName": "amdsync-local",
            "AWS::NoValue": "",
        }

    def ref(self, name: str) -> str:
        if name in self.parameters:
            return self.parameters[name]
        pseudo = self.pseudo_parameters()
        if name in pseudo:
            return pseudo[name]
        if name in self.refs:
            return self.refs[name]
        raise UnresolvedReference(f"Ref {name}")

    def get_att(self, logical_id: str, attribute: str) -> str:
        try:
            return self.attributes[(logical_id, attribute)]
        except KeyError:
            raise UnresolvedReference(f"Fn::GetAtt {logical_id}.{attribute}") from None

    def resolve(self, value: Any) -> Any:
        """Resolve every intrinsic inside `value` (dicts and lists are walked)."""
        if isinstance(value, list):
            return [self.resolve(item) for item in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, arg),) = value.items()
            if key == "Ref" or key.startswith("Fn::") or key == "Condition":
                return self._intrinsic(key, arg)
        return {key: self.resolve(item) for key, item in value.items()}

    def _intrinsic(self, key: str, arg: Any) -> str:
        if key == "Ref":
            return self.ref(str(arg))
        if key == "Fn::Sub":
            return self._sub(arg)
        if key == "Fn::GetAtt":
            logical_id, attribute = arg if isinstance(arg, list) else str(arg).split(".", 1)
            return self.get_att(logical_id, attribute)
        if key == "Fn::Join":
            separator, items = arg
            return str(separator).join(str(item) for item in self.resolve(items))
        if key == "Fn::If":  # only the branch taken is resolved, as CloudFormation does
            name, when_true, when_false = arg
            return self.resolve(when_true if self.condition_holds(str(name)) else when_false)  # type: ignore[no-any-return]
        if key == "Fn::Select":
            index, items = arg
            chosen = self.resolve(items)
            listed = chosen.split(",") if isinstance(chosen, str) else list(chosen)
            return str(listed[int(index)])
        raise TemplateError(f"unsupported intrinsic {key}")

    def _sub(self, arg: Any) -> str:
        if isinstance(arg, list):
            text, variables = arg[0], {k: self.resolve(v) for k, v in arg[1].items()}
        else:
            text, variables = arg, {}

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in variables:
                return str(variables[name])
            if "." in name and not name.startswith("AWS::"):
                logical_id, attribute = name.split(".", 1)
                return self.get_att(logical_id, attribute)
            return self.ref(name)

        return _SUB_VARIABLE.sub(replace, str(text))

    def condition_holds(self, name: str) -> bool:
        if name not in self.conditions:
            raise TemplateError(f"unknown condition {name}")
        return bool(self._evaluate(self.conditions[name]))

    def _evaluate(self, expression: Any) -> Any:
        if isinstance(expression, dict) and len(expression) == 1:
            ((key, arg),) = expression.items()
            if key == "Fn::Not":
                return not self._evaluate(arg[0])
            if key == "Fn::Equals":
                left, right = (self._evaluate(item) for item in arg)
                return str(left) == str(right)
            if key == "Fn::And":
                return all(self._evaluate(item) for item in arg)
            if key == "Fn::Or":
                return any(self._evaluate(item) for item in arg)
            if key == "Condition":
                return self.condition_holds(str(arg))
        return self.resolve(expression)
