"""The XML element tree behind every XMLRPC message, its Json.NET-style JSON form, and the
`PPMDResults` reply envelope (PROTOCOL §1.2-§1.4)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import Any
from xml.sax.saxutils import escape

XML_DECL = {"@version": "1.0", "@encoding": "ISO-8859-1"}
PPMD_NS = "www.perfectpractice.md"
_ATTR_ESCAPES = {'"': "&quot;", "\n": "&#10;", "\r": "&#13;", "\t": "&#9;"}


class EnvelopeError(ValueError):
    """The body is not a well-formed `ppmdmsg` (JSON or XML)."""


def _local(name: str) -> str:
    return name.split(":", 1)[1].lower() if ":" in name else name.lower()


@dataclass
class El:
    name: str
    attrs: dict[str, str] = field(default_factory=dict)
    children: list[El] = field(default_factory=list)
    text: str | None = None

    def add(self, name: str, attrs: dict[str, str] | None = None, text: str | None = None) -> El:
        child = El(name, dict(attrs or {}), [], text)
        self.children.append(child)
        return child

    def attr(self, name: str, default: str | None = None) -> str | None:
        """Case-insensitive attribute lookup (requests are not consistent about case)."""
        wanted = name.lower()
        for key, value in self.attrs.items():
            if key.lower() == wanted:
                return value
        return default

    def has_attr(self, name: str) -> bool:
        return self.attr(name) is not None

    def child(self, name: str) -> El | None:
        found = self.children_named(name)
        return found[0] if found else None

    def children_named(self, name: str) -> list[El]:
        wanted = _local(name)
        return [c for c in self.children if _local(c.name) == wanted]


# ---------------------------------------------------------------- JSON (Json.NET convention)


def el_to_json(el: El) -> Any:
    if not el.attrs and not el.children:
        return el.text if el.text else None
    out: dict[str, Any] = {f"@{k}": v for k, v in el.attrs.items()}
    groups: dict[str, list[El]] = {}
    for child in el.children:
        groups.setdefault(child.name, []).append(child)
    for name, items in groups.items():
        out[name] = el_to_json(items[0]) if len(items) == 1 else [el_to_json(i) for i in items]
    if el.text:
        out["#text"] = el.text
    return out


def _scalar(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, (str, int, float)):
        return str(value)
    raise EnvelopeError("attribute values must be scalars")


def json_to_el(name: str, value: Any) -> El:
    el = El(name)
    if value is None:
        return el
    if not isinstance(value, dict):
        el.text = _scalar(value)
        return el
    for key, item in value.items():
        if key.startswith("@"):
            el.attrs[key[1:]] = _scalar(item)
        elif key == "#text":
            el.text = _scalar(item)
        elif isinstance(item, list):
            for entry in item:
                if isinstance(entry, list):
                    raise EnvelopeError("nested arrays are not XML")
                el.children.append(json_to_el(key, entry))
        else:
            el.children.append(json_to_el(key, item))
    return el


# ---------------------------------------------------------------- XML


def el_to_xml(el: El) -> str:
    attrs = "".join(f' {k}="{escape(v, _ATTR_ESCAPES)}"' for k, v in el.attrs.items())
    if not el.children and not el.text:
        return f"<{el.name}{attrs}/>"
    inner = escape(el.text or "") + "".join(el_to_xml(c) for c in el.children)
    return f"<{el.name}{attrs}>{inner}</{el.name}>"


def _et_name(tag: str) -> str:
    if tag.startswith("{"):
        uri, local = tag[1:].split("}", 1)
        return f"ppmd:{local}" if uri == PPMD_NS else local
    return tag


def _et_to_el(node: ET.Element) -> El:
    attrs = {_et_name(k): v for k, v in node.attrib.items()}
    el = El(_et_name(node.tag), attrs)
    text = (node.text or "").strip()
    el.text = text or None
    el.children = [_et_to_el(c) for c in node]
    return el


def parse_xml(body: bytes) -> El:
    try:
        root = ET.fromstring(body)  # noqa: S314 - local simulator
    except ET.ParseError:
        try:  # stray bytes: retry as Latin-1 text without the declaration
            text = body.decode("latin-1")
            if text.lstrip().startswith("<?xml"):
                text = text.split("?>", 1)[1]
            root = ET.fromstring(text)  # noqa: S314
        except ET.ParseError as exc:
            raise EnvelopeError(f"XML parse error: {exc}") from exc
    return _et_to_el(root)


# ---------------------------------------------------------------- requests


def parse_request(body: bytes) -> El:
    """Parse a `ppmdmsg` request in either format (sniffed: `<` means XML)."""
    stripped = body.lstrip()
    if not stripped:
        raise EnvelopeError("empty body")
    if stripped.startswith(b"<"):
        el = parse_xml(stripped)
        if el.name != "ppmdmsg":
            raise EnvelopeError(f"root element must be ppmdmsg, not {el.name}")
        return el
    try:
        data = json.loads(stripped.decode("utf-8", errors="replace"))
    except json.JSONDecodeError as exc:
        raise EnvelopeError(f"JSON parse error: {exc.msg}") from exc
    if not isinstance(data, dict) or list(data) != ["ppmdmsg"]:
        raise EnvelopeError("the JSON body must be an object with the single key 'ppmdmsg'")
    if not isinstance(data["ppmdmsg"], dict):
        raise EnvelopeError("ppmdmsg must be an object")
    return json_to_el("ppmdmsg", data["ppmdmsg"])


# ---------------------------------------------------------------- replies


@dataclass
class Fault:
    code: str
    description: str
    faultcode: str = "Client"
    cls: str = "ApiRequest"
    method: str = "ProcessRequest"
    extrainfo: El | str | None = None

    def to_el(self) -> El:
        err = El("Error")
        fault = err.add("Fault")
        fault.add("faultcode", text=self.faultcode)
        fault.add("faultstring", text=f"{self.faultcode} Error")
        detail = fault.add("detail")
        detail.add("code", text=self.code)
        detail.add("description", text=self.description)
        detail.add("class", text=self.cls)
        detail.add("method", text=self.method)
        detail.add("linenum", text="0")
        detail.add("source", text="PPMD")
        extra = detail.add("extrainfo")
        if isinstance(self.extrainfo, El):
            extra.children.append(self.extrainfo)
        elif self.extrainfo:
            extra.text = self.extrainfo
        return err


def results_envelope(
    results: El | None,
    fault: Fault | None,
    *,
    server: str,
    lst: str,
    top_level: list[El] | None = None,
    omit_results: bool = False,
) -> El:
    root = El("PPMDResults", {"s": server, "lst": lst})
    if not omit_results:
        root.children.append(results if results is not None else El("Results"))
    root.children.extend(top_level or [])
    root.children.append(fault.to_el() if fault else El("Error"))
    return root


def render(root: El, *, as_json: bool) -> tuple[bytes, str]:
    """Render a reply; JSON carries the `?xml` sibling like the vendor's samples."""
    if as_json:
        doc = {"?xml": XML_DECL, root.name: el_to_json(root)}
        return json.dumps(doc).encode("utf-8"), "application/json; charset=utf-8"
    text = '<?xml version="1.0" encoding="ISO-8859-1"?>' + el_to_xml(root)
    return text.encode("iso-8859-1", errors="replace"), "text/xml; charset=ISO-8859-1"
